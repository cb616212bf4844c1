import type { MaskBundle, WeightBundle } from '@lth/artifacts';
import { initWeights } from '@lth/models';
import { magnitudePrune, randomMaskLike, randomPrune } from './index';
import { maskOf, randomWeights } from './__tests__/testing';

const layers: Array<[string, 'conv' | 'fc' | 'output' | 'bias', number[]]> = [
  ['conv.weight', 'conv', [3, 3, 2, 8]],
  ['conv.bias', 'bias', [8]],
  ['fc.weight', 'fc', [40, 30]],
  ['out.weight', 'output', [30, 10]],
];
const w = randomWeights(layers, 1);
const reference = magnitudePrune(w, { scope: 'layerwise', rate: { conv: 0.1, fc: 0.2, output: 0.1 }, rounds: 4 }).mask;

describe('randomMaskLike (the random-pruning control)', () => {
  it('keeps exactly as many weights per layer as the reference mask', () => {
    const r = randomMaskLike(reference, 5);
    const kept = (m: typeof reference) => m.tensors.map((t) => t.values.reduce((a, b) => a + b, 0));
    expect(kept(r.mask)).toEqual(kept(reference));
    expect(r.sparsity.layers.map((l) => l.remaining)).toEqual(kept(reference));
    expect(r.mask.tensors.map((t) => [t.name, t.role, t.shape])).toEqual(reference.tensors.map((t) => [t.name, t.role, t.shape]));
    expect(r.mask.meta).toMatchObject({ content: 'mask', info: { rule: 'random', seed: 5, round: 4 } });
  });

  it('is the same for a seed, different across seeds, and not the magnitude mask', () => {
    const a = randomMaskLike(reference, 5).mask;
    expect(randomMaskLike(reference, 5).mask.tensors).toEqual(a.tensors);
    const b = randomMaskLike(reference, 6).mask;
    for (const name of ['conv.weight', 'fc.weight', 'out.weight']) {
      expect(maskOf(b, name)).not.toEqual(maskOf(a, name));
      expect(maskOf(a, name)).not.toEqual(maskOf(reference, name));
    }
  });

  it('spreads the kept weights uniformly (each position kept about keep/n of the time)', () => {
    const ref = {
      meta: { content: 'mask' as const, model: { arch: 'toy', options: {} } },
      tensors: [{ name: 'x', role: 'fc' as const, shape: [10], values: Uint8Array.from([1, 1, 1, 0, 0, 0, 0, 0, 0, 0]) }],
    };
    const hits = new Array<number>(10).fill(0);
    for (let s = 0; s < 2000; s++) randomMaskLike(ref, s).mask.tensors[0]?.values.forEach((v, i) => (hits[i] = (hits[i] as number) + v));
    for (const h of hits) expect(Math.abs(h - 600)).toBeLessThan(100);
  });
});

describe('randomPrune (random scores with a rate)', () => {
  it('prunes the counts the rate gives, nesting in the current mask, seeded', () => {
    const spec = { scope: 'layerwise', rate: { fc: 0.2, output: 0.1 } } as const;
    const r1 = randomPrune(w, spec, 3);
    expect(r1.sparsity.layers.map((l) => l.remaining)).toEqual([144, 960, 270]);
    const r2 = randomPrune(w, spec, 3, r1.mask);
    expect(r2.sparsity.layers.map((l) => l.remaining)).toEqual([144, 768, 243]);
    let revived = 0;
    r2.mask.tensors.forEach((t, i) => t.values.forEach((v, j) => (revived += v > (r1.mask.tensors[i]?.values[j] as number) ? 1 : 0)));
    expect(revived).toBe(0);
    expect(r2.mask.meta.info).toMatchObject({ rule: 'random', seed: 3, round: 2 });
    expect(randomPrune(w, spec, 3).mask.tensors).toEqual(r1.mask.tensors);
    expect(maskOf(randomPrune(w, spec, 4).mask, 'fc.weight')).not.toEqual(maskOf(r1.mask, 'fc.weight'));
    // shapes may come from the mask alone
    expect(randomPrune(r1.mask, spec, 3, r1.mask).mask.tensors).toEqual(r2.mask.tensors);
  });
});

/**
 * Two-sample Kolmogorov-Smirnov statistic of |w| between the kept and the pruned weights of
 * one tensor: the largest gap between their empirical distribution functions.
 */
function ksKeptVsPruned(w: Float32Array, m: Uint8Array): { d: number; kept: number; pruned: number } {
  const kept: number[] = [];
  const pruned: number[] = [];
  w.forEach((v, i) => (m[i] ? kept : pruned).push(Math.abs(v)));
  kept.sort((a, b) => a - b);
  pruned.sort((a, b) => a - b);
  let i = 0;
  let j = 0;
  let d = 0;
  while (i < kept.length && j < pruned.length) {
    const x = Math.min(kept[i] as number, pruned[j] as number);
    while (i < kept.length && (kept[i] as number) <= x) i++;
    while (j < pruned.length && (pruned[j] as number) <= x) j++;
    d = Math.max(d, Math.abs(i / kept.length - j / pruned.length));
  }
  return { d, kept: kept.length, pruned: pruned.length };
}

/** The KS critical value at significance 1e-6: c(a) * sqrt((n + m) / (n m)), c(1e-6) = 2.71. */
const critical = (n: number, m: number) => 2.71 * Math.sqrt((n + m) / (n * m));

// The random-pruning control must choose weights without regard to their magnitude in w0.
// Its draws once came from the very streams that produced w0's normals when the control's
// seed equalled w0's; the streams are now separated by purpose. Checked with the seed of w0
// itself passed to the control, as the paper pipelines do.
describe('random pruning is independent of |w0|', () => {
  const ref = { arch: 'lenet_300_100', options: {} };

  it.each([0, 1, 2])('a random mask like a round-3 magnitude mask keeps the |w0| distribution (seed %i)', (seed) => {
    const w0 = initWeights(ref, seed);
    let reference: MaskBundle | undefined;
    for (let r = 0; r < 3; r++) reference = magnitudePrune(w0 as WeightBundle, { scope: 'layerwise', rate: { fc: 0.2, output: 0.1 } }, reference).mask;
    const random = randomMaskLike(reference as MaskBundle, seed).mask;
    for (const t of random.tensors) {
      const w = w0.tensors.find((x) => x.name === t.name)?.values as Float32Array;
      const { d, kept, pruned } = ksKeptVsPruned(w, t.values as Uint8Array);
      expect(kept).toBe((reference as MaskBundle).tensors.find((x) => x.name === t.name)?.values.reduce((a, b) => a + b, 0));
      expect(d).toBeLessThan(critical(kept, pruned));
    }
    // The magnitude mask it copies the counts from is, of course, maximally biased.
    const mag = (reference as MaskBundle).tensors[0] as MaskBundle['tensors'][number];
    const w = w0.tensors.find((x) => x.name === mag.name)?.values as Float32Array;
    expect(ksKeptVsPruned(w, mag.values as Uint8Array).d).toBeGreaterThan(0.9);
  });

  // Measured: with the old shared stream this case gave D = 0.27 against a critical 0.011.
  it('random pruning by rate keeps the |w0| distribution too', () => {
    const w0 = initWeights(ref, 1);
    const m = randomPrune(w0, { scope: 'layerwise', rate: { fc: 0.5, output: 0.5 } }, 1).mask;
    for (const t of m.tensors) {
      const w = w0.tensors.find((x) => x.name === t.name)?.values as Float32Array;
      const { d, kept, pruned } = ksKeptVsPruned(w, t.values as Uint8Array);
      expect(d).toBeLessThan(critical(kept, pruned));
    }
  });
});
