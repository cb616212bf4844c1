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
    const ref = { meta: { content: 'mask' as const, model: { arch: 'toy', options: {} } }, tensors: [{ name: 'x', role: 'fc' as const, shape: [10], values: Uint8Array.from([1, 1, 1, 0, 0, 0, 0, 0, 0, 0]) }] };
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
