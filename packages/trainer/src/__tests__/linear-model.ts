import type { WeightBundle } from '@lth/artifacts';
import { tf } from '@lth/compute';
import type { TrainableModel } from '../types';

/** Softmax regression on flattened images: a TrainableModel that is not from @lth/models. */
export function linearModel(w: Float32Array, b: Float32Array, inputs: number, classes: number): TrainableModel {
  const params = new Map<string, tf.Variable>([
    ['fc.weight', tf.tidy(() => tf.variable(tf.tensor2d(w, [inputs, classes])))],
    ['fc.bias', tf.tidy(() => tf.variable(tf.tensor1d(b)))],
  ]);
  const ref = { arch: 'linear', options: {} };
  return {
    ref,
    params,
    roles: new Map([
      ['fc.weight', 'output'],
      ['fc.bias', 'bias'],
    ]),
    apply: (x) => tf.tidy(() => tf.add(tf.matMul(tf.reshape(x, [x.shape[0], -1]), params.get('fc.weight')!), params.get('fc.bias')!) as tf.Tensor2D),
    toBundle(content, extra = {}): WeightBundle {
      return {
        meta: { content, model: ref, ...(extra.iteration !== undefined ? { iteration: extra.iteration } : {}) },
        tensors: [...params].map(([name, v]) => ({ name, role: name.endsWith('bias') ? 'bias' : 'output', shape: v.shape, values: Float32Array.from(v.dataSync()) })),
      };
    },
    dispose: () => params.forEach((v) => v.dispose()),
  };
}
