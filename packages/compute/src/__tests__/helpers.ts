import { tf, createRng } from '../index';

/** A tensor of standard normal values from the seeded RNG (same values on every backend). */
export function randn(shape: number[], seed: string): tf.Tensor {
  return tf.tensor(createRng('test', seed).fillNormal(new Float32Array(shape.reduce((a, b) => a * b, 1)), 1), shape);
}

/** ||got - want|| / ||want||: the relative error of a whole array. */
export function relErr(got: Float32Array, want: Float32Array): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < want.length; i++) {
    num += ((got[i] ?? NaN) - want[i]!) ** 2;
    den += want[i]! ** 2;
  }
  return Math.sqrt(num / den);
}
