import { splitView } from '@lth/artifacts';
import { existsSync } from 'node:fs';
import { NATIVE_ADDON, initBackend, nativeNormalizedBatch, tf, useNativeBlas, withBackend } from '@lth/compute';
import { batchIterator, disposeBatch, evalBatches, type Batch } from './batches';
import { syntheticDataset } from './synthetic';

beforeAll(async () => {
  await initBackend('cpu');
});

const ds = syntheticDataset({ seed: 5, shape: [6, 6, 3], classes: 4, train: 50, validation: 10, test: 23 });

function take(it: Iterator<Batch>, n: number): { x: Float32Array; y: Int32Array; epoch: number; shape: number[] }[] {
  const out = [];
  for (let i = 0; i < n; i++) {
    const b = it.next().value as Batch;
    out.push({ x: b.x.dataSync() as Float32Array, y: b.y.dataSync() as Int32Array, epoch: b.epoch, shape: b.x.shape });
    disposeBatch(b);
  }
  return out;
}

/** Finds which train row a label/pixel pattern came from, via its raw first pixel values. */
function rowsOf(batches: { x: Float32Array; y: Int32Array }[]): number[] {
  const view = splitView(ds, 'train');
  const size = 6 * 6 * 3;
  const { mean, std } = ds.meta.normalization;
  const rows: number[] = [];
  for (const b of batches) {
    for (let i = 0; i < b.y.length; i++) {
      const raw = Array.from(b.x.subarray(i * size, (i + 1) * size), (v, p) => Math.round((v * std[p % 3]! + mean[p % 3]!) * 255));
      const r = [...Array(view.count).keys()].find((k) => raw.every((v, p) => v === view.images[k * size + p]));
      expect(r).toBeDefined();
      expect(b.y[i]).toBe(view.labels[r!]);
      rows.push(r!);
    }
  }
  return rows;
}

describe('batchIterator', () => {
  it('yields normalized float32 images and int32 labels of the right shape', () => {
    const b = batchIterator(ds, 'train', { batchSize: 8, seed: 0 }).next().value as Batch;
    expect(b.x.shape).toEqual([8, 6, 6, 3]);
    expect(b.x.dtype).toBe('float32');
    expect(b.y.shape).toEqual([8]);
    expect(b.y.dtype).toBe('int32');
    disposeBatch(b);
  });

  it('is deterministic for a seed and differs across seeds', () => {
    const a = take(batchIterator(ds, 'train', { batchSize: 10, seed: 1 }), 3);
    const b = take(batchIterator(ds, 'train', { batchSize: 10, seed: 1 }), 3);
    const c = take(batchIterator(ds, 'train', { batchSize: 10, seed: 2 }), 3);
    expect(a.map((z) => Array.from(z.x))).toEqual(b.map((z) => Array.from(z.x)));
    expect(a.map((z) => Array.from(z.y))).toEqual(b.map((z) => Array.from(z.y)));
    expect(a.map((z) => Array.from(z.x))).not.toEqual(c.map((z) => Array.from(z.x)));
  });

  (existsSync(NATIVE_ADDON) ? it : it.skip)('gives the same bytes with the native gather (LTH_NATIVE_BLAS=1) as in JS, augmented batches too', () => {
    const hex = (bs: { x: Float32Array }[]) => bs.map((z) => Buffer.from(z.x.buffer).toString('hex'));
    for (const opts of [
      { batchSize: 7, seed: 4 },
      { batchSize: 7, seed: 4, skipBatches: 9 },
      { batchSize: 7, seed: 4, augment: true },
    ]) {
      useNativeBlas(false);
      const js = take(batchIterator(ds, 'train', opts), 12);
      useNativeBlas(true);
      try {
        expect(hex(take(batchIterator(ds, 'train', opts), 12))).toEqual(hex(js));
      } finally {
        useNativeBlas(undefined);
      }
    }
    useNativeBlas(true);
    try {
      const native = [...evalBatches(ds, 'test', 10)].map((b) => ({ x: b.x.dataSync() as Float32Array, dispose: () => disposeBatch(b) }));
      useNativeBlas(false);
      const js = [...evalBatches(ds, 'test', 10)].map((b) => ({ x: b.x.dataSync() as Float32Array, dispose: () => disposeBatch(b) }));
      expect(hex(native)).toEqual(hex(js));
      [...native, ...js].forEach((b) => b.dispose());
    } finally {
      useNativeBlas(undefined);
    }
  });

  (existsSync(NATIVE_ADDON) ? it : it.skip)(
    'on wasm with native products, batches are normalized straight onto the heap: the same bytes and labels',
    async () => {
      const hex = (bs: { x: Float32Array; y: Int32Array }[]) =>
        bs.map((z) => Buffer.from(z.x.buffer, z.x.byteOffset, z.x.byteLength).toString('hex') + Array.from(z.y).join());
      const opts = { batchSize: 7, seed: 4, skipBatches: 3 };
      const evalOf = () =>
        [...evalBatches(ds, 'test', 10)].map((b) => ({
          x: b.x.dataSync().slice() as Float32Array,
          y: b.y.dataSync().slice() as Int32Array,
          dispose: () => disposeBatch(b),
        }));
      const jsTrain = take(batchIterator(ds, 'train', opts), 12);
      const jsEval = evalOf();
      useNativeBlas(true);
      try {
        await withBackend('wasm', () => {
          const probe = nativeNormalizedBatch(ds.images, Int32Array.from([0, 2]), ds.meta.shape, new Float32Array(3 * 256));
          expect(probe?.shape).toEqual([2, ...ds.meta.shape]); // the heap path is the one taken here
          probe?.dispose();
          const before = tf.memory().numTensors;
          expect(hex(take(batchIterator(ds, 'train', opts), 12))).toEqual(hex(jsTrain));
          const heapEval = evalOf();
          expect(hex(heapEval)).toEqual(hex(jsEval));
          heapEval.forEach((b) => b.dispose());
          expect(tf.memory().numTensors).toBe(before);
        });
      } finally {
        useNativeBlas(undefined);
        jsEval.forEach((b) => b.dispose());
      }
    },
  );

  it('visits every row once per epoch, reshuffling each epoch', () => {
    const bs = take(batchIterator(ds, 'train', { batchSize: 10, seed: 3 }), 10);
    expect(bs.map((b) => b.epoch)).toEqual([0, 0, 0, 0, 0, 1, 1, 1, 1, 1]);
    const e0 = rowsOf(bs.slice(0, 5));
    const e1 = rowsOf(bs.slice(5));
    expect([...e0].sort((p, q) => p - q)).toEqual([...Array(50).keys()]);
    expect([...e1].sort((p, q) => p - q)).toEqual([...Array(50).keys()]);
    expect(e0).not.toEqual(e1);
  });

  it('drops the last partial batch by default and keeps it with dropLast: false', () => {
    const dropped = take(batchIterator(ds, 'train', { batchSize: 16, seed: 0 }), 4);
    expect(dropped.map((b) => [b.shape[0], b.epoch])).toEqual([
      [16, 0],
      [16, 0],
      [16, 0],
      [16, 1],
    ]);
    const kept = take(batchIterator(ds, 'train', { batchSize: 16, seed: 0, dropLast: false }), 5);
    expect(kept.map((b) => [b.shape[0], b.epoch])).toEqual([
      [16, 0],
      [16, 0],
      [16, 0],
      [2, 0],
      [16, 1],
    ]);
    expect(() => batchIterator(ds, 'validation', { batchSize: 16, seed: 0 }).next()).toThrow(/fewer than batchSize/);
  });

  it('augments with a padded random crop and flip: same shape, deterministic, pixels shifted from the source', () => {
    const plain = take(batchIterator(ds, 'train', { batchSize: 10, seed: 4 }), 1)[0]!;
    const a = take(batchIterator(ds, 'train', { batchSize: 10, seed: 4, augment: true }), 2);
    const b = take(batchIterator(ds, 'train', { batchSize: 10, seed: 4, augment: true }), 2);
    expect(a[0]!.shape).toEqual([10, 6, 6, 3]);
    expect(Array.from(a[0]!.x)).toEqual(Array.from(b[0]!.x));
    expect(Array.from(a[1]!.x)).toEqual(Array.from(b[1]!.x));
    // Same order as without augmentation, only the pixels change.
    expect(Array.from(a[0]!.y)).toEqual(Array.from(plain.y));
    expect(Array.from(a[0]!.x)).not.toEqual(Array.from(plain.x));
    // Every augmented image is a crop of the zero-padded (possibly flipped) source image.
    const [h, w, c] = [6, 6, 3];
    const { mean, std } = ds.meta.normalization;
    const size = h * w * c;
    for (let i = 0; i < 10; i++) {
      const src = Array.from(plain.x.subarray(i * size, (i + 1) * size));
      const got = Array.from(a[0]!.x.subarray(i * size, (i + 1) * size));
      const pad = (ch: number) => (0 - mean[ch]!) / std[ch]!;
      let match = false;
      for (let dy = 0; dy <= 8 && !match; dy++) {
        for (let dx = 0; dx <= 8 && !match; dx++) {
          for (const flip of [false, true]) {
            let ok = true;
            for (let y = 0; y < h && ok; y++) {
              for (let x = 0; x < w && ok; x++) {
                const sx = (flip ? w - 1 - x : x) + dx - 4;
                const sy = y + dy - 4;
                for (let ch = 0; ch < c; ch++) {
                  const want = sy >= 0 && sy < h && sx >= 0 && sx < w ? src[(sy * w + sx) * c + ch]! : pad(ch);
                  if (Math.abs(want - got[(y * w + x) * c + ch]!) > 1e-5) ok = false;
                }
              }
            }
            if (ok) match = true;
          }
        }
      }
      expect(match).toBe(true);
    }
  });

  it('skipBatches resumes exactly where an uninterrupted run would be, augmentation included', () => {
    for (const opts of [{ dropLast: true }, { dropLast: false }]) {
      const full = take(batchIterator(ds, 'train', { batchSize: 16, seed: 9, augment: true, ...opts }), 9);
      for (const skip of [0, 2, 3, 4, 7]) {
        const resumed = take(batchIterator(ds, 'train', { batchSize: 16, seed: 9, augment: true, skipBatches: skip, ...opts }), 9 - skip);
        expect(resumed.map((b) => [b.epoch, Array.from(b.y), Array.from(b.x)])).toEqual(
          full.slice(skip).map((b) => [b.epoch, Array.from(b.y), Array.from(b.x)]),
        );
      }
    }
  });

  it('leaks no tensors when the caller disposes, nor with autoDispose', () => {
    const before = tf.memory().numTensors;
    take(batchIterator(ds, 'train', { batchSize: 7, seed: 0, augment: true }), 12);
    expect(tf.memory().numTensors).toBe(before);
    const it = batchIterator(ds, 'train', { batchSize: 7, seed: 0, autoDispose: true });
    for (let i = 0; i < 12; i++) it.next();
    expect(tf.memory().numTensors).toBe(before + 2);
    it.return(undefined as never);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('evalBatches', () => {
  it('yields every example once, in order, last batch partial', () => {
    const before = tf.memory().numTensors;
    const sizes: number[] = [];
    const labels: number[] = [];
    for (const b of evalBatches(ds, 'test', 10)) {
      sizes.push(b.x.shape[0]);
      labels.push(...b.y.dataSync());
      disposeBatch(b);
    }
    expect(sizes).toEqual([10, 10, 3]);
    expect(labels).toEqual(Array.from(splitView(ds, 'test').labels));
    expect(tf.memory().numTensors).toBe(before);
  });

  it('honours limit (a number of examples)', () => {
    const sizes: number[] = [];
    for (const b of evalBatches(ds, 'test', 10, { limit: 15 })) {
      sizes.push(b.x.shape[0]);
      disposeBatch(b);
    }
    expect(sizes).toEqual([10, 5]);
  });

  it('normalizes with the train statistics: train images have mean ~0 and std ~1 per channel', () => {
    const b = evalBatches(ds, 'train', 50).next().value as Batch;
    const moments = tf.tidy(() => tf.moments(b.x, [0, 1, 2]));
    expect(Array.from(moments.mean.dataSync()).every((m) => Math.abs(m) < 1e-4)).toBe(true);
    expect(Array.from(moments.variance.dataSync()).every((v) => Math.abs(v - 1) < 1e-3)).toBe(true);
    tf.dispose([moments.mean, moments.variance]);
    disposeBatch(b);
  });
});
