import { tf, initBackend, withBackend, toActiveBackend } from '../index';
import { randn } from '../__tests__/helpers';

function expectClose(got: { shape: number[]; v: number[] }, want: { shape: number[]; v: number[] }): void {
  expect(got.shape).toEqual(want.shape);
  want.v.forEach((w, i) => expect(Math.abs(got.v[i]! - w)).toBeLessThan(1e-4 * (1 + Math.abs(w))));
}

describe('wasm Sum / Mean over leading axes', () => {
  let x: tf.Tensor;
  beforeAll(async () => {
    await initBackend('wasm');
    x = randn([4, 5, 3, 16], 'x');
  });
  it.each([
    { axis: [0, 1, 2], keepDims: false }, // batch-norm statistics
    { axis: [0, 1, 2], keepDims: true },
    { axis: [1, 2], keepDims: false }, // global average pooling
    { axis: [0], keepDims: true },
    { axis: [2, 1], keepDims: false },
    { axis: [-1], keepDims: false }, // innermost: the original kernel
    { axis: [0, 2], keepDims: false }, // not contiguous: the original kernel
    { axis: [0, 1, 2, 3], keepDims: false },
  ])('agrees with cpu for %o', async ({ axis, keepDims }) => {
    const run = () =>
      tf.tidy(() =>
        [tf.sum(toActiveBackend(x), axis, keepDims), tf.mean(toActiveBackend(x), axis, keepDims)].map((t) => ({ shape: t.shape, v: Array.from(t.dataSync()) })),
      );
    const want = await withBackend('cpu', run);
    const before = tf.memory().numTensors;
    const got = await withBackend('wasm', run);
    expect(tf.memory().numTensors).toBe(before);
    want.forEach((w, i) => expectClose(got[i]!, w));
  });

  it('keeps integer sums exact (original kernel)', async () => {
    const xi = tf.tensor(
      [
        [1, 2],
        [3, 4],
        [5, 6],
      ],
      [3, 2],
      'int32',
    );
    const s = await withBackend('wasm', () => tf.tidy(() => Array.from(tf.sum(toActiveBackend(xi), 0).dataSync())));
    expect(s).toEqual([9, 12]);
    xi.dispose();
  });

  it('batch-norm gradients (batch statistics) agree with cpu', async () => {
    const a = randn([6, 4, 4, 8], 'a'),
      g = randn([8], 'g'),
      b = randn([8], 'b');
    const run = () =>
      tf.tidy(() =>
        tf
          .grads((p: tf.Tensor, q: tf.Tensor, r: tf.Tensor) => {
            const m = tf.moments(p, [0, 1, 2]);
            return tf.mul(tf.batchNorm(p, m.mean, m.variance, r, q, 1e-3), tf.range(0, 8));
          })([toActiveBackend(a), toActiveBackend(g), toActiveBackend(b)])
          .map((t) => ({ shape: t.shape, v: Array.from(t.dataSync()) })),
      );
    const want = await withBackend('cpu', run);
    const got = await withBackend('wasm', run);
    want.forEach((w, i) => expectClose(got[i]!, w));
    tf.dispose([a, g, b]);
  });
});
