import type { MaskBundle, WeightBundle, WeightRole } from '@lth/artifacts';
import { createRng } from '@lth/random';

// Helpers for this package's tests (not exported from index.ts).
export function bundle(layers: Array<[string, WeightRole, number[], number[] | Float32Array]>, arch = 'toy'): WeightBundle {
  return {
    meta: { content: 'trained', model: { arch, options: {} } },
    tensors: layers.map(([name, role, shape, values]) => ({ name, role, shape, values: Float32Array.from(values) })),
  };
}

export function randomWeights(layers: Array<[string, WeightRole, number[]]>, seed: number): WeightBundle {
  const rng = createRng('test', seed);
  return bundle(layers.map(([n, r, s]) => [n, r, s, rng.fillNormal(new Float32Array(s.reduce((a, b) => a * b, 1)), 1)]));
}

export function maskOf(b: MaskBundle, name: string): number[] {
  const t = b.tensors.find((x) => x.name === name);
  if (!t) throw new Error(`test: no mask tensor ${name}`);
  return Array.from(t.values);
}
