import { tf } from '@lth/compute';
import type { PathModel } from '../path';

/** Softmax regression on flattened images: logits = x W + b. */
export function linearPathModel(inputs: number, classes: number): PathModel {
  const params = new Map<string, tf.Variable>([
    ['fc.weight', tf.tidy(() => tf.variable(tf.zeros([inputs, classes])))],
    ['fc.bias', tf.tidy(() => tf.variable(tf.zeros([classes])))],
  ]);
  return {
    params,
    apply: (x) =>
      tf.tidy(
        () => tf.add(tf.matMul(tf.reshape(x, [x.shape[0], -1]), params.get('fc.weight') as tf.Variable), params.get('fc.bias') as tf.Variable) as tf.Tensor2D,
      ),
  };
}

export function disposeModel(m: PathModel): void {
  for (const v of m.params.values()) v.dispose();
  for (const v of m.buffers?.values() ?? []) v.dispose();
}
