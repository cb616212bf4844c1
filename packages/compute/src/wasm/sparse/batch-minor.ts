import { BATCH_LANES } from './spmm';

/**
 * The layout the sparse kernels work in: a [batch, features] activation stored as
 * [features, lanes], lanes = the batch rounded up to a multiple of BATCH_LANES with zero
 * padding, so that one feature's values over the batch are contiguous SIMD vectors. The
 * copies in and out are plain JS over the wasm heap: a LeNet layer's activations are 6K-47K
 * values, a small share of the products they feed.
 */

/** The batch rounded up to whole passes of the kernels. */
export function lanesFor(batch: number): number {
  return Math.max(BATCH_LANES, Math.ceil(batch / BATCH_LANES) * BATCH_LANES);
}

/** src [batch, features] row-major -> dst [features, lanes], padding lanes zeroed. */
export function toBatchMinor(src: Float32Array, batch: number, features: number, dst: Float32Array, lanes: number): void {
  for (let f = 0; f < features; f++) {
    const row = f * lanes;
    let s = f;
    for (let b = 0; b < batch; b++, s += features) dst[row + b] = src[s]!;
    for (let b = batch; b < lanes; b++) dst[row + b] = 0;
  }
}

/** src [features, lanes] -> dst [batch, features] row-major (the padding lanes are dropped). */
export function fromBatchMinor(src: Float32Array, batch: number, features: number, dst: Float32Array, lanes: number): void {
  for (let b = 0; b < batch; b++) {
    const row = b * features;
    let s = b;
    for (let f = 0; f < features; f++, s += lanes) dst[row + f] = src[s]!;
  }
}
