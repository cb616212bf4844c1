import { tf, initBackend, withBackend, toActiveBackend } from '../../index';

describe('wasm Tile', () => {
  beforeAll(async () => {
    await initBackend('wasm');
  });

  it.each([
    { shape: [1, 1, 1, 4], reps: [3, 2, 5, 1] }, // batch-norm gradient: channel vector to activation shape
    { shape: [2, 3], reps: [2, 3] },
    { shape: [3], reps: [4] },
    { shape: [2, 1, 3], reps: [1, 1, 1] },
    { shape: [2, 3, 2], reps: [1, 3, 2] },
  ])('matches the cpu backend for %o', async ({ shape, reps }) => {
    const n = shape.reduce((a, b) => a * b, 1);
    const x = tf.tensor(
      Array.from({ length: n }, (_, i) => i * 1.5 - 2),
      shape,
    );
    const xi = tf.tensor(
      Array.from({ length: n }, (_, i) => i),
      shape,
      'int32',
    );
    const run = () =>
      tf.tidy(() =>
        [tf.tile(toActiveBackend(x), reps), tf.tile(toActiveBackend(xi), reps)].map((t) => ({ shape: t.shape, dtype: t.dtype, v: Array.from(t.dataSync()) })),
      );
    const want = await withBackend('cpu', run);
    const got = await withBackend('wasm', run);
    expect(got).toEqual(want);
    tf.dispose([x, xi]);
  });

  it('refuses strings by name, and a gradient that tiles leaks nothing', async () => {
    await withBackend('wasm', () => {
      const s = tf.tensor(['a', 'b']);
      expect(() => tf.tile(s, [2])).toThrow(/cannot tile string tensors/);
      s.dispose();
      const x = tf.randomNormal([4, 3, 3, 2]);
      const mean = tf.zeros([2]),
        variance = tf.ones([2]),
        offset = tf.zeros([2]),
        scale = tf.ones([2]);
      const step = () =>
        tf.tidy(
          () =>
            void tf
              .grad((a: tf.Tensor) => tf.batchNorm(a, mean, variance, offset, scale))(x)
              .dataSync(),
        );
      step();
      const before = tf.memory().numTensors;
      step();
      expect(tf.memory().numTensors).toBe(before);
      tf.dispose([x, mean, variance, offset, scale]);
    });
  });
});
