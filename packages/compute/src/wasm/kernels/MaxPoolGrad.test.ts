import { tf, initBackend, withBackend, toActiveBackend, createRng } from '../../index';

type Pad = 'same' | 'valid';
interface Case {
  shape: [number, number, number, number];
  f: number;
  s: number;
  pad: Pad;
}

/** dx of max pooling with upstream gradient dy, on `backend`. */
async function poolGrad(backend: 'cpu' | 'wasm', x: tf.Tensor, dy: tf.Tensor, c: Case): Promise<Float32Array> {
  return withBackend(backend, () =>
    tf.tidy(() => {
      const g = tf.grad((a: tf.Tensor) => tf.maxPool(a as tf.Tensor4D, c.f, c.s, c.pad))(toActiveBackend(x), toActiveBackend(dy));
      return g.dataSync() as Float32Array;
    }),
  );
}

/** Random values with many exact ties: rounded to halves, then ReLU'd (zeros, as after a conv). */
function tied(shape: number[], seed: string): tf.Tensor {
  const rng = createRng('test', seed);
  return tf.tensor(
    Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => Math.max(0, Math.round(rng.normal() * 2) / 2)),
    shape,
  );
}

const CASES: Case[] = [
  { shape: [2, 8, 8, 4], f: 2, s: 2, pad: 'valid' }, // the conv nets' pool
  { shape: [2, 7, 9, 3], f: 2, s: 2, pad: 'valid' }, // last row/column never pooled
  { shape: [2, 7, 7, 3], f: 2, s: 2, pad: 'same' }, // padded edge windows
  { shape: [1, 6, 6, 5], f: 3, s: 1, pad: 'same' }, // overlapping windows: dy accumulates
  { shape: [2, 9, 8, 2], f: 3, s: 2, pad: 'same' },
  { shape: [1, 5, 5, 1], f: 2, s: 1, pad: 'valid' },
];

describe('wasm MaxPoolGrad', () => {
  beforeAll(async () => {
    await initBackend('wasm');
  });

  it.each(CASES)('routes dy to the first maximum, as the cpu backend does: %o', async (c) => {
    const x = tied(c.shape, `x${JSON.stringify(c)}`);
    const y = tf.maxPool(x as tf.Tensor4D, c.f, c.s, c.pad);
    const dy = tf.tensor(createRng('test', 'dy').fillNormal(new Float32Array(y.size), 1), y.shape);
    const want = await poolGrad('cpu', x, dy, c);
    const got = await poolGrad('wasm', x, dy, c);
    expect(got.length).toBe(want.length);
    // Non-overlapping windows: one term per entry, so bit-identical; overlapping: sums in another order.
    if (c.f <= c.s) expect(Array.from(got)).toEqual(Array.from(want));
    else got.forEach((v, i) => expect(Math.abs(v - want[i]!)).toBeLessThan(1e-5 * (1 + Math.abs(want[i]!))));
    tf.dispose([x, y, dy]);
  });

  it('leaks no tensors or wasm buffers', async () => {
    await withBackend('wasm', () => {
      const x = tied([2, 8, 8, 4], 'x');
      const step = () =>
        tf.tidy(
          () =>
            void tf
              .grad((a: tf.Tensor) => tf.maxPool(a as tf.Tensor4D, 2, 2, 'valid'))(x)
              .dataSync(),
        );
      step();
      const buffers = () => (tf.backend() as unknown as { dataIdMap: { numDataIds(): number } }).dataIdMap.numDataIds();
      const before = { tensors: tf.memory().numTensors, buffers: buffers() };
      for (let i = 0; i < 3; i++) step();
      expect(tf.memory().numTensors).toBe(before.tensors);
      expect(buffers()).toBe(before.buffers);
      x.dispose();
    });
  });
});
