import type { MaskBundle, TensorBundle } from '@lth/artifacts';
import { createRng } from '@lth/random';
import { PruneSpec, type PruneSpecInput } from './config';
import { countOnes, currentMask, nextRound, result, type PruneResult } from './masks';
import { pruneByKeys, specInfo } from './prune';

/**
 * Random pruning draws from the 'random-mask' stream of (seed, round), never from w0's 'init'
 * stream: sharing it made the kept positions depend on the uniforms behind w0's normals, a
 * magnitude bias, and the pipeline seed is the natural value to pass.
 */
function randomKeys(seed: number, round: number, name: string, n: number): Uint32Array {
  const rng = createRng('random-mask', seed, 'round', round).fork(name);
  const keys = new Uint32Array(n);
  for (let i = 0; i < n; i++) keys[i] = Math.floor(rng.next() * 4294967296);
  return keys;
}

/**
 * Random pruning with a rate or target (`pruner/random` with `prune`): like magnitudePrune
 * but every weight gets a random score (seeded per tensor name), so which weights go is
 * random while the per-layer counts follow `spec`. `shapes` is any bundle of the model
 * (weights or the current mask).
 */
export function randomPrune(shapes: TensorBundle, spec: PruneSpecInput | PruneSpec, seed: number, mask?: MaskBundle): PruneResult {
  const s = PruneSpec.parse(spec);
  const round = nextRound(mask, s.rate !== undefined ? (s.rounds ?? 1) : 1);
  const tensors = pruneByKeys(shapes, s, mask, (t) => ({ keys: randomKeys(seed, round, t.name, t.values.length), keyMask: 0xffffffff }), 'pruner/random');
  return result(shapes.meta.model, tensors, { rule: 'random', seed, round, ...specInfo(s) });
}

/**
 * The random-pruning control (`pruner/random` without `prune`): a mask keeping, in every
 * layer, exactly as many weights as `reference` keeps, at uniformly random positions (a
 * seeded partial Fisher-Yates shuffle per tensor name).
 */
export function randomMaskLike(reference: MaskBundle, seed: number): PruneResult {
  const where = 'pruner/random';
  const round = nextRound(reference, 0);
  const tensors = currentMask(reference, reference, where).map((t) => {
    const n = t.values.length;
    const keep = countOnes(t.values);
    const rng = createRng('random-mask', seed, 'round', round).fork(t.name);
    const idx = new Int32Array(n);
    for (let i = 0; i < n; i++) idx[i] = i;
    const values = new Uint8Array(n);
    for (let i = 0; i < keep; i++) {
      const j = i + Math.floor(rng.next() * (n - i));
      const chosen = idx[j] as number;
      idx[j] = idx[i] as number;
      idx[i] = chosen;
      values[chosen] = 1;
    }
    return { ...t, values };
  });
  return result(reference.meta.model, tensors, { rule: 'random', seed, like: reference.meta.info ?? {}, round });
}
