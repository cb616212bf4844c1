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

/** `shape`'s element count of normal values times `scale`, from the seeded RNG. */
export function normalValues(shape: number[], seed: string, scale = 1): Float32Array {
  const rng = createRng('test', seed);
  return Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.normal() * scale);
}

/** max |a - b| / max |b|: the largest error relative to the largest value. */
export function maxRelDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs((a[i] as number) - (b[i] as number)));
    scale = Math.max(scale, Math.abs(b[i] as number));
  }
  return diff / scale;
}
