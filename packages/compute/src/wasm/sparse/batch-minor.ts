import type { KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { heapOf, matrix, type SparseHeapBackend } from './heap';
import { BATCH_LANES } from './spmm-gather';
import { transposeInto } from './transpose';

/**
 * The layout the sparse kernels work in: a [batch, features] activation stored as
 * [features, lanes], lanes = the batch rounded up to a multiple of BATCH_LANES, the padding
 * lanes zero, so that one feature's values over the batch are contiguous SIMD vectors.
 *   LthToBatchMinor    x [batch, features] -> [features, lanes]
 *   LthFromBatchMinor  x [features, lanes] -> [batch, features]   (attr batch; padding dropped)
 * Each is the other's gradient, so a masked dense layer converts its input and output once
 * per step, and their gradients once (sparse.ts).
 */
export const TO_BATCH_MINOR = 'LthToBatchMinor';
export const FROM_BATCH_MINOR = 'LthFromBatchMinor';

/** The batch rounded up to whole passes of the kernels. */
export function lanesFor(batch: number): number {
  return Math.max(BATCH_LANES, Math.ceil(batch / BATCH_LANES) * BATCH_LANES);
}

const region = (heap: SparseHeapBackend, t: TensorInfo, rowLength: number) => ({
  view: heap.typedArrayFromHeap(t),
  offset: heap.dataIdMap.get(t.dataId).memoryOffset,
  rowLength,
});

export const toBatchMinor: KernelFunc = ({ inputs, backend }) => {
  const { x } = inputs as { x: TensorInfo };
  const [batch, features] = matrix(TO_BATCH_MINOR, x, 'x');
  const { heap, kernels } = heapOf(backend, TO_BATCH_MINOR);
  const lanes = lanesFor(batch);
  const out = heap.makeOutput([features, lanes], 'float32');
  const dst = region(heap, out, lanes);
  transposeInto(kernels.transpose, region(heap, x, features), dst, batch, features);
  for (let f = 0; f < features; f++) dst.view.fill(0, f * lanes + batch, (f + 1) * lanes);
  return out;
};

export const fromBatchMinor: KernelFunc = ({ inputs, backend, attrs }) => {
  const { x } = inputs as { x: TensorInfo };
  const [features, lanes] = matrix(FROM_BATCH_MINOR, x, 'x');
  const batch = (attrs as { batch: number }).batch;
  if (!(Number.isInteger(batch) && batch > 0 && batch <= lanes))
    throw new Error(`wasm-kernels ${FROM_BATCH_MINOR}: batch ${batch} does not fit ${lanes} lanes`);
  const { heap, kernels } = heapOf(backend, FROM_BATCH_MINOR);
  const out = heap.makeOutput([batch, features], 'float32');
  transposeInto(kernels.transpose, region(heap, x, lanes), region(heap, out, features), features, batch);
  return out;
};
