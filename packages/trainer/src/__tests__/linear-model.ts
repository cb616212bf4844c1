import type { WeightBundle } from '@lth/artifacts';
import { tf } from '@lth/compute';
import { syntheticDataset } from '@lth/data';
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
        tensors: [...params].map(([name, v]) => ({
          name,
          role: name.endsWith('bias') ? 'bias' : 'output',
          shape: v.shape,
          values: Float32Array.from(v.dataSync()),
        })),
      };
    },
    dispose: () => params.forEach((v) => v.dispose()),
  };
}

/** The shared toy problem: 4x4 one-channel images, 3 classes, fixed starting weights. */
export const D = 16;
export const K = 3;
export const toyData = syntheticDataset({ seed: 8, shape: [4, 4, 1], classes: K, train: 30, validation: 9, test: 9 });
export const W = Float32Array.from({ length: D * K }, (_, i) => Math.sin(i) * 0.3);
export const B = Float32Array.from([0.1, -0.2, 0.05]);
