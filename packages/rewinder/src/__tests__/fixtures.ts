import { isPrunable, type MaskBundle, type WeightBundle } from '@lth/artifacts';
import { createRng } from '@lth/compute';

// Fixtures shared by this package's tests: a toy model's bundles and a random mask over a real model.
export const model = { arch: 'toy', options: {} };
export function weights(content: 'init' | 'checkpoint' | 'trained', fc: number[], bias = [5, 6]): WeightBundle {
  return {
    meta: { content, model, ...(content === 'init' ? { seed: 3 } : {}) },
    tensors: [
      { name: 'fc.weight', role: 'fc', shape: [2, 2], values: Float32Array.from(fc) },
      { name: 'fc.bias', role: 'bias', shape: [2], values: Float32Array.from(bias) },
      { name: 'bn.mean', role: 'buffer', shape: [1], values: Float32Array.from([0.5]) },
    ],
  };
}
export const mask: MaskBundle = {
  meta: { content: 'mask', model, info: { round: 2, rule: 'magnitude' } },
  tensors: [{ name: 'fc.weight', role: 'fc', shape: [2, 2], values: Uint8Array.from([1, 0, 0, 1]) }],
};

/** A random mask over the prunable tensors of a real model (the rewinder cannot import the pruner). */
export function randomMask(w: WeightBundle, keep: number, seed: number): MaskBundle {
  const rng = createRng('test', seed);
  return {
    meta: { content: 'mask', model: w.meta.model, info: { round: 1 } },
    tensors: w.tensors.filter((t) => isPrunable(t.role)).map((t) => ({ ...t, values: Uint8Array.from(t.values, () => (rng.next() < keep ? 1 : 0)) })),
  };
}
