import { createRng, initBackend, tf } from '@lth/compute';
import { biasAdd, dense } from './dense';

/** The hand-written gradients must equal tfjs' own (autodiff of matMul / broadcast add). */
const rand = (shape: number[], seed: string) => {
  const rng = createRng('test', seed);
  return tf.tensor(
    Float32Array.from({ length: shape.reduce((a, b) => a * b) }, () => rng.normal()),
    shape,
  );
};
function maxRelDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]! / tf.max(tf.abs(b)).dataSync()[0]!);
}

describe.each(['cpu', 'wasm'])('custom gradients on %s', (backend) => {
  beforeAll(async () => {
    await initBackend(backend);
  });

  test('dense with and without bias: value and gradients match tf.matMul + add', () => {
    const x = rand([5, 7], 'x');
    const w = rand([7, 3], 'w');
    const b = rand([3], 'b');
    const dy = rand([5, 3], 'dy');
    const ours = tf.grads((xx, ww, bb) => tf.sum(tf.mul(dense(xx as tf.Tensor2D, ww as tf.Tensor2D, bb), dy)))([x, w, b]);
    const ref = tf.grads((xx, ww, bb) => tf.sum(tf.mul(tf.add(tf.matMul(xx as tf.Tensor2D, ww as tf.Tensor2D), bb), dy)))([x, w, b]);
    ours.forEach((g, i) => expect(maxRelDiff(g, ref[i]!)).toBeLessThan(1e-5));
    const ours2 = tf.grads((xx, ww) => tf.sum(tf.mul(dense(xx as tf.Tensor2D, ww as tf.Tensor2D), dy)))([x, w]);
    const ref2 = tf.grads((xx, ww) => tf.sum(tf.mul(tf.matMul(xx as tf.Tensor2D, ww as tf.Tensor2D), dy)))([x, w]);
    ours2.forEach((g, i) => expect(maxRelDiff(g, ref2[i]!)).toBeLessThan(1e-5));
    expect(maxRelDiff(dense(x as tf.Tensor2D, w as tf.Tensor2D, b), tf.add(tf.matMul(x as tf.Tensor2D, w as tf.Tensor2D), b))).toBeLessThan(1e-6);
    tf.dispose([x, w, b, dy, ...ours, ...ref, ...ours2, ...ref2]);
  });

  test('inputGradient: false: the same weight and bias gradients bit for bit, zeros for x', () => {
    const x = rand([6, 9], 'x');
    const w = rand([9, 4], 'w');
    const b = rand([4], 'b');
    const dy = rand([6, 4], 'dy');
    for (const bias of [b, undefined]) {
      const f = (opts: { inputGradient?: boolean }) => (xx: tf.Tensor, ww: tf.Tensor, bb?: tf.Tensor) =>
        tf.sum(tf.mul(dense(xx as tf.Tensor2D, ww as tf.Tensor2D, bb, opts), dy));
      const args = bias ? [x, w, bias] : [x, w];
      const full = tf.grads(f({}))(args);
      const skip = tf.grads(f({ inputGradient: false }))(args);
      expect(Array.from(skip[0]!.dataSync()).every((v) => v === 0)).toBe(true);
      expect(tf.max(tf.abs(full[0]!)).dataSync()[0]).toBeGreaterThan(0);
      for (let i = 1; i < args.length; i++) expect(Array.from(skip[i]!.dataSync())).toEqual(Array.from(full[i]!.dataSync()));
      tf.dispose([...full, ...skip]);
    }
    tf.dispose([x, w, b, dy]);
  });

  test('biasAdd on NHWC: value and gradients match broadcast add', () => {
    const x = rand([2, 3, 4, 5], 'x');
    const b = rand([5], 'b');
    const dy = rand([2, 3, 4, 5], 'dy');
    const ours = tf.grads((xx, bb) => tf.sum(tf.mul(biasAdd(xx, bb), dy)))([x, b]);
    const ref = tf.grads((xx, bb) => tf.sum(tf.mul(tf.add(xx, bb), dy)))([x, b]);
    ours.forEach((g, i) => expect(maxRelDiff(g, ref[i]!)).toBeLessThan(1e-5));
    expect(ours[1]!.shape).toEqual([5]);
    tf.dispose([x, b, dy, ...ours, ...ref]);
  });
});
