import type { MaskBundle, WeightBundle } from '@lth/artifacts';
import { initWeights } from '@lth/models';
import { magnitudePrune, randomMaskLike, randomPrune } from './index';

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
