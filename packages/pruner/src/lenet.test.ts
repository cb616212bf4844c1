import type { MaskBundle, WeightBundle } from '@lth/artifacts';
import { createRng } from '@lth/compute';
import { initWeights } from '@lth/models';
import { magnitudePrune } from './index';

// LeNet-300-100 at full size, the paper's schedule (fc 20%, output 10%), with the weights
// perturbed between rounds to stand in for training (the trainer is not a dependency here).
describe('LeNet-300-100, fc 20% / output 10%', () => {
  const ref = { arch: 'lenet_300_100', options: {} };
  const w0 = initWeights(ref, 0);
  const spec = { scope: 'layerwise', rate: { fc: 0.2, output: 0.1 } } as const;
  const expected = [
    [188160, 24000, 900],
    [150528, 19200, 810],
    [120422, 15360, 729],
  ];

  function trained(round: number, mask?: MaskBundle): WeightBundle {
    const rng = createRng('test', round);
    return {
      meta: { content: 'trained', model: ref },
      tensors: w0.tensors.map((t) => {
        const values = Float32Array.from(t.values, (v) => v + 0.05 * rng.normal());
        const m = mask?.tensors.find((x) => x.name === t.name)?.values;
        if (m) for (let i = 0; i < values.length; i++) if (m[i] === 0) values[i] = 0;
        return { ...t, values };
      }),
    };
  }

  it('keeps 0.8^n of each fc layer and 0.9^n of the output layer, masks nesting', () => {
    let mask: MaskBundle | undefined;
    for (let n = 1; n <= 3; n++) {
      const r = magnitudePrune(trained(n, mask), spec, mask);
      expect(r.sparsity.layers.map((l) => [l.layer, l.remaining])).toEqual([
        ['fc1.weight', expected[n - 1]?.[0]],
        ['fc2.weight', expected[n - 1]?.[1]],
        ['fc3.weight', expected[n - 1]?.[2]],
      ]);
      if (mask) {
        let revived = 0;
        r.mask.tensors.forEach((t, i) => t.values.forEach((v, j) => (revived += v > (mask?.tensors[i]?.values[j] as number) ? 1 : 0)));
        expect(revived).toBe(0);
      }
      mask = r.mask;
    }
    expect(mask?.meta.info?.['round']).toBe(3);
  });

  it('one-shot to the same Pm gives the same per-layer counts (per-role targets, or rate with rounds)', () => {
    const w = trained(1);
    const byTarget = magnitudePrune(w, { scope: 'layerwise', target: { fc: 0.8 ** 3, output: 0.9 ** 3 } });
    const byRounds = magnitudePrune(w, { ...spec, rounds: 3 });
    expect(byTarget.sparsity.layers.map((l) => l.remaining)).toEqual(expected[2]);
    expect(byRounds.mask.tensors).toEqual(byTarget.mask.tensors);
  });
});
