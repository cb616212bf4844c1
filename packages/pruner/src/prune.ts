import type { MaskBundle, NamedTensor, TensorBundle, WeightBundle } from '@lth/artifacts';
import { createRng } from '@lth/random';
import { PruneSpec, type PruneSpecInput } from './config';
import { keepCount, remainingAfter } from './counts';
import { checkWeights, countOnes, currentMask, nextRound, result, type PruneResult } from './masks';
import { magnitudeKeys, pruneLowest, type KeyedPart } from './select';

type Keys = (tensor: NamedTensor<Uint8Array>, index: number) => Pick<KeyedPart, 'keys' | 'keyMask'>;

/** How many weights a group of layers (one layer, or the global union) keeps after this step. */
function keptAfter(spec: PruneSpec, rate: number | undefined, target: number | undefined, remaining: number, total: number): number {
  if (rate !== undefined) return remainingAfter(remaining, rate, spec.rounds ?? 1, spec.rounding);
  // masks nest: a one-shot target never revives weights of a layer already below it
  return Math.min(remaining, keepCount(target as number, total, spec.rounding));
}

/**
 * The pruning step shared by magnitude and random pruning; only the scores differ. Returns
 * the new mask tensors (fresh arrays; the inputs are never modified).
 */
export function pruneByKeys(shapes: TensorBundle, spec: PruneSpec, mask: MaskBundle | undefined, keysFor: Keys, where: string): NamedTensor<Uint8Array>[] {
  const tensors = currentMask(shapes, mask, where);
  const groups: { parts: number[]; keep: number; remaining: number }[] = [];
  if (spec.scope === 'layerwise') {
    tensors.forEach((t, i) => {
      const role = t.role as 'conv' | 'fc' | 'output' | 'shortcut';
      const rate = spec.rate?.[role];
      const target = spec.target?.[role];
      if (rate === undefined && target === undefined) return;
      const remaining = countOnes(t.values);
      groups.push({ parts: [i], remaining, keep: keptAfter(spec, rate, target, remaining, t.values.length) });
    });
  } else {
    const roles = new Set<string>(spec.roles);
    const parts = tensors.flatMap((t, i) => (roles.has(t.role) ? [i] : []));
    if (parts.length === 0) {
      throw new Error(`${where}: global pruning over roles [${spec.roles}] but the model has no tensor of those roles (has: ${[...new Set(tensors.map((t) => t.role))].join(', ')})`);
    }
    const remaining = parts.reduce((a, i) => a + countOnes((tensors[i] as NamedTensor<Uint8Array>).values), 0);
    const total = parts.reduce((a, i) => a + (tensors[i] as NamedTensor<Uint8Array>).values.length, 0);
    groups.push({ parts, remaining, keep: keptAfter(spec, spec.rate, spec.target, remaining, total) });
  }
  for (const g of groups) {
    const parts = g.parts.map((i) => {
      const t = tensors[i] as NamedTensor<Uint8Array>;
      return { ...keysFor(t, i), mask: t.values };
    });
    pruneLowest(parts, g.remaining - g.keep);
  }
  return tensors;
}

function describe(spec: PruneSpec): Record<string, unknown> {
  return Object.fromEntries(Object.entries(spec).filter(([, v]) => v !== undefined));
}

/**
 * Magnitude pruning (`pruner/magnitude` as a plain function): removes the unpruned weights of
 * smallest |w| per `spec`, starting from `mask` (absent: the dense network). Ties go to the
 * lower magnitude first, then the lower flat index (global: layers in bundle order).
 */
export function magnitudePrune(weights: WeightBundle, spec: PruneSpecInput | PruneSpec, mask?: MaskBundle): PruneResult {
  const where = 'pruner/magnitude';
  const s = PruneSpec.parse(spec);
  checkWeights(weights, where);
  const byName = new Map(weights.tensors.map((t) => [t.name, t]));
  const tensors = pruneByKeys(weights, s, mask, (t) => ({ keys: magnitudeKeys(t.name, (byName.get(t.name) as NamedTensor<Float32Array>).values), keyMask: 0x7fffffff }), where);
  return result(weights.meta.model, tensors, { rule: 'magnitude', round: nextRound(mask, s.rate !== undefined ? (s.rounds ?? 1) : 1), ...describe(s) });
}

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
  return result(shapes.meta.model, tensors, { rule: 'random', seed, round, ...describe(s) });
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
