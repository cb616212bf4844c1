import { splitView, type Dataset, type SplitName } from '@lth/artifacts';
import { createRng, nativeNormalizedBatch, nativeNormalizeRows, tf, type Rng } from '@lth/compute';
import { normalizationTable } from './normalize';

/**
 * One batch: images normalized with the dataset's training statistics and integer labels.
 * Ownership: the CALLER disposes every batch it receives (`disposeBatch(b)` or tf.dispose),
 * unless the iterator was created with `autoDispose: true`.
 */
export interface Batch {
  /** [batch, height, width, channels], float32, (pixel / 255 - mean[c]) / std[c]. */
  x: tf.Tensor4D;
  /** [batch], int32 class indices. */
  y: tf.Tensor1D;
  /** The epoch this batch belongs to (0-based), for the training loop's bookkeeping. */
  epoch: number;
}

export interface BatchOptions {
  batchSize: number;
  seed: number;
  /** Drop the last partial batch of each epoch so every batch has batchSize rows; default true. */
  dropLast?: boolean;
  /** CIFAR augmentation: random crop of the 4-pixel zero-padded image, random horizontal flip. */
  augment?: boolean;
  /**
   * When true the iterator disposes each batch as soon as the next one is requested (or the
   * iteration ends), so the caller must not keep it; default false (the caller disposes).
   */
  autoDispose?: boolean;
  /**
   * Start after this many batches, as if they had been drawn (without making them): training
   * resumed or rewound at iteration k sees exactly the batches an uninterrupted run would.
   */
  skipBatches?: number;
}

export function disposeBatch(b: { x: tf.Tensor; y: tf.Tensor }): void {
  b.x.dispose();
  b.y.dispose();
}

/** Padding of the random-crop augmentation (the paper's CIFAR setting, after He et al.). */
export const CROP_PADDING = 4;

/**
 * Fills `out` (row `slot` of a batch) with example `src` of the split, normalized through `lut`.
 * With a crop offset (dy, dx in 0..2*pad) the output pixel (y, x) reads input (y+dy-pad, x+dx-pad),
 * and pixels outside the image are raw 0 (black), as padding happens before normalization.
 */
function fillRow(
  out: Float32Array,
  slot: number,
  images: Uint8Array,
  src: number,
  shape: readonly [number, number, number],
  lut: Float32Array,
  crop?: { dy: number; dx: number; flip: boolean },
): void {
  const [h, w, c] = shape;
  const size = h * w * c;
  const o = slot * size;
  const s = src * size;
  if (!crop) {
    if (c === 1) {
      for (let p = 0; p < size; p++) out[o + p] = lut[images[s + p] as number] as number;
    } else {
      for (let p = 0; p < size; p++) out[o + p] = lut[(p % c) * 256 + (images[s + p] as number)] as number;
    }
    return;
  }
  const { dy, dx, flip } = crop;
  for (let y = 0; y < h; y++) {
    const sy = y + dy - CROP_PADDING;
    for (let x = 0; x < w; x++) {
      const xx = flip ? w - 1 - x : x;
      const sx = xx + dx - CROP_PADDING;
      const inside = sy >= 0 && sy < h && sx >= 0 && sx < w;
      const op = o + (y * w + x) * c;
      const sp = s + (sy * w + sx) * c;
      for (let ch = 0; ch < c; ch++) out[op + ch] = lut[ch * 256 + (inside ? (images[sp + ch] as number) : 0)] as number;
    }
  }
}

function makeBatch(
  ds: Dataset,
  view: { images: Uint8Array; labels: Uint8Array },
  lut: Float32Array,
  rows: ArrayLike<number>,
  start: number,
  end: number,
  epoch: number,
  aug?: Rng,
): Batch {
  const shape = ds.meta.shape;
  const size = shape[0] * shape[1] * shape[2];
  const b = end - start;
  const ys = new Int32Array(b);
  for (let i = 0; i < b; i++) ys[i] = view.labels[rows[start + i] as number] as number;
  // Without augmentation and with native products (LTH_NATIVE_BLAS=1) the addon fills the
  // same values: straight onto the wasm heap (no JS array per batch), else into `xs`.
  const plain = !aug && rows instanceof Int32Array ? rows.subarray(start, end) : null;
  const onHeap = plain && nativeNormalizedBatch(view.images, plain, shape, lut);
  if (onHeap) return { x: onHeap as tf.Tensor4D, y: tf.tensor1d(ys, 'int32'), epoch };
  const xs = new Float32Array(b * size);
  if (!plain || !nativeNormalizeRows(view.images, plain, size, shape[2], lut, xs)) {
    for (let i = 0; i < b; i++) {
      const crop = aug ? { dy: aug.int(2 * CROP_PADDING + 1), dx: aug.int(2 * CROP_PADDING + 1), flip: aug.next() < 0.5 } : undefined;
      fillRow(xs, i, view.images, rows[start + i] as number, shape, lut, crop);
    }
  }
  return {
    x: tf.tensor4d(xs, [b, shape[0], shape[1], shape[2]], 'float32'),
    y: tf.tensor1d(ys, 'int32'),
    epoch,
  };
}

/** The shuffled row order of one epoch: a function of (seed, epoch) only. */
export function epochOrder(count: number, seed: number, epoch: number): Int32Array {
  return createRng('data-order', seed, 'epoch', epoch).permutation(count);
}

/**
 * Endless training batches over one split: each epoch visits the rows in a fresh order drawn
 * from (seed, epoch), so a run is reproducible and resumable at any epoch. Augmentation draws
 * from its own (seed, epoch) stream, so turning it on does not change the order.
 */
export function* batchIterator(ds: Dataset, split: SplitName, opts: BatchOptions): Generator<Batch, never, undefined> {
  const { batchSize, seed } = opts;
  const dropLast = opts.dropLast ?? true;
  const view = splitView(ds, split);
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`batchIterator: batchSize must be a positive integer, got ${batchSize}`);
  if (view.count === 0) throw new Error(`batchIterator: split '${split}' of dataset '${ds.meta.name}' is empty`);
  if (dropLast && view.count < batchSize) {
    throw new Error(
      `batchIterator: split '${split}' of dataset '${ds.meta.name}' has ${view.count} examples, fewer than batchSize ${batchSize} (with dropLast no batch could be made)`,
    );
  }
  const lut = normalizationTable(ds.meta);
  const end = dropLast ? view.count - (view.count % batchSize) : view.count;
  const perEpoch = Math.ceil(end / batchSize);
  const skip = opts.skipBatches ?? 0;
  if (!Number.isInteger(skip) || skip < 0) throw new Error(`batchIterator: skipBatches must be a non-negative integer, got ${skip}`);
  let previous: Batch | undefined;
  try {
    for (let epoch = Math.floor(skip / perEpoch); ; epoch++) {
      const order = epochOrder(view.count, seed, epoch);
      const aug = opts.augment ? createRng('augment', seed, 'epoch', epoch) : undefined;
      let first = 0;
      if (epoch === Math.floor(skip / perEpoch)) {
        first = (skip % perEpoch) * batchSize;
        // Each example consumes three augmentation draws (dy, dx, flip); replay them.
        for (let i = 0; aug && i < 3 * first; i++) aug.next();
      }
      for (let start = first; start < end; start += batchSize) {
        const batch = makeBatch(ds, view, lut, order, start, Math.min(start + batchSize, end), epoch, aug);
        if (opts.autoDispose && previous) disposeBatch(previous);
        previous = batch;
        yield batch;
      }
    }
  } finally {
    if (opts.autoDispose && previous) disposeBatch(previous);
  }
}

export interface EvalOptions {
  /** Evaluate only the first `limit` examples of the split (in order). */
  limit?: number;
}

/**
 * The examples of one split in their stored order, once, in batches of batchSize (the last
 * one may be smaller). No augmentation. The caller disposes each batch.
 */
export function* evalBatches(ds: Dataset, split: SplitName, batchSize: number, opts: EvalOptions = {}): Generator<Batch, void, undefined> {
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`evalBatches: batchSize must be a positive integer, got ${batchSize}`);
  const view = splitView(ds, split);
  const n = opts.limit === undefined ? view.count : Math.min(view.count, Math.max(0, Math.floor(opts.limit)));
  const lut = normalizationTable(ds.meta);
  const rows = new Int32Array(n);
  for (let i = 0; i < n; i++) rows[i] = i;
  for (let start = 0; start < n; start += batchSize) {
    yield makeBatch(ds, view, lut, rows, start, Math.min(start + batchSize, n), 0);
  }
}
