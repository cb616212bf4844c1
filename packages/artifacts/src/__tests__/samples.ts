import { summarizeSparsity } from '../sparsity';
import type { ArtifactKind, ArtifactTypes } from '../kinds';

/** One small, valid value of every artifact kind (the seeds of the fuzz test). */
export const SAMPLES: { [K in ArtifactKind]: () => ArtifactTypes[K] } = {
  dataset: () => ({
    meta: {
      name: 'tiny',
      shape: [2, 2, 1],
      classes: ['a', 'b'],
      splits: { train: { offset: 0, count: 3 }, validation: { offset: 3, count: 1 }, test: { offset: 4, count: 1 } },
      normalization: { mean: [0.5], std: [0.25] },
      source: { origin: 'test', files: { 'x.idx': 'ab'.repeat(32) } },
      seed: 7,
    },
    images: Uint8Array.from({ length: 20 }, (_, i) => i * 10),
    labels: Uint8Array.from([0, 1, 1, 0, 1]),
  }),
  tensors: () => ({
    meta: { content: 'trained', model: { arch: 'lenet300', options: {} }, iteration: 10, seed: 1 },
    tensors: [
      { name: 'fc1.w', role: 'fc', shape: [3, 2], values: Float32Array.from([1, -2, 3, -4, 5, -6]) },
      { name: 'fc1.b', role: 'bias', shape: [2], values: Float32Array.from([0.5, -0.5]) },
    ],
  }),
  metrics: () => ({
    meta: { earlyStop: { iteration: 100, validationLoss: 0.4, validationAccuracy: 0.9, testAccuracy: 0.91 }, iterations: 200 },
    rows: [
      { iteration: 0, split: 'validation', loss: 2.3, accuracy: 0.1 },
      { iteration: 100, split: 'validation', loss: 0.4, accuracy: 0.9 },
      { iteration: 100, split: 'test', loss: 0.5, accuracy: 0.91 },
    ],
  }),
  sparsity: () =>
    summarizeSparsity([
      { layer: 'fc1.w', role: 'fc', total: 10, remaining: 8 },
      { layer: 'out.w', role: 'output', total: 10, remaining: 9 },
    ]),
  table: () => ({
    meta: {
      title: 'summary',
      columns: [
        { name: 'pm', type: 'float64' },
        { name: 'variant', type: 'utf8' },
      ],
    },
    rows: [
      { pm: 1, variant: 'lottery' },
      { pm: 0.51, variant: null },
      { pm: null, variant: 'random' },
    ],
  }),
};
