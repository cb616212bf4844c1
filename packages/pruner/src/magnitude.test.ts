import type { MaskBundle, WeightBundle } from '@lth/artifacts';
import { createRng } from '@lth/compute';
import { initWeights } from '@lth/models';
import { magnitudePrune } from './index';
import { bundle, maskOf, randomWeights } from './__tests__/testing';

describe('magnitudePrune, layerwise', () => {
  const w = bundle([
    ['fc1.weight', 'fc', [2, 3], [0.5, -0.1, 0.3, -0.7, 0.2, 0.05]],
    ['fc1.bias', 'bias', [3], [9, 9, 9]],
    ['out.weight', 'output', [2, 2], [0.4, -0.3, 0.2, 0.1]],
  ]);

  it('prunes rate * remaining of each layer of a listed role, smallest |w| first', () => {
    const { mask, sparsity } = magnitudePrune(w, { scope: 'layerwise', rate: { fc: 0.5, output: 0.5 } });
    expect(mask.meta.content).toBe('mask');
    expect(mask.tensors.map((t) => t.name)).toEqual(['fc1.weight', 'out.weight']);
    // |w| sorted: 0.05 (5), 0.1 (1), 0.2 (4) go
    expect(maskOf(mask, 'fc1.weight')).toEqual([1, 0, 1, 1, 0, 0]);
    expect(maskOf(mask, 'out.weight')).toEqual([1, 1, 0, 0]);
    expect(mask.meta.info).toMatchObject({ rule: 'magnitude', round: 1, scope: 'layerwise' });
    expect(sparsity.meta).toMatchObject({ total: 10, remaining: 5, fraction: 0.5 });
    expect(sparsity.layers).toEqual([
      { layer: 'fc1.weight', role: 'fc', total: 6, remaining: 3, fraction: 0.5 },
      { layer: 'out.weight', role: 'output', total: 4, remaining: 2, fraction: 0.5 },
    ]);
  });

  it('leaves roles that are not listed dense', () => {
    const { mask } = magnitudePrune(w, { scope: 'layerwise', rate: { fc: 0.5 } });
    expect(maskOf(mask, 'out.weight')).toEqual([1, 1, 1, 1]);
  });

  it('rounds rate * remaining to nearest (halves up), or up with ceil', () => {
    // 0.25 * 6 = 1.5 -> 2 (round) ; 0.2 * 6 = 1.2 -> 1 (round) or 2 (ceil)
    expect(magnitudePrune(w, { scope: 'layerwise', rate: { fc: 0.25 } }).sparsity.layers[0]?.remaining).toBe(4);
    expect(magnitudePrune(w, { scope: 'layerwise', rate: { fc: 0.2 } }).sparsity.layers[0]?.remaining).toBe(5);
    expect(magnitudePrune(w, { scope: 'layerwise', rate: { fc: 0.2 }, rounding: 'ceil' }).sparsity.layers[0]?.remaining).toBe(4);
  });

  it('snaps float noise before rounding (0.7 * 90 = 62.99999999999999 keeps 63, not 62)', () => {
    const t = bundle([['fc.weight', 'fc', [90], Array.from({ length: 90 }, (_, i) => i + 1)]]);
    for (const rounding of ['round', 'ceil'] as const) {
      expect(magnitudePrune(t, { scope: 'layerwise', target: { fc: 0.7 }, rounding }).sparsity.meta.remaining).toBe(63);
    }
  });

  it('breaks ties by lower magnitude, then lower flat index', () => {
    const t = bundle([['fc.weight', 'fc', [5], [0.2, -0.2, 0.2, 0.1, 0.2]]]);
    // prune 2: 0.1 at 3, then the first of the tied 0.2 magnitudes (index 0; -0.2 ties with 0.2)
    expect(maskOf(magnitudePrune(t, { scope: 'layerwise', rate: { fc: 0.4 } }).mask, 'fc.weight')).toEqual([0, 1, 1, 0, 1]);
    expect(maskOf(magnitudePrune(t, { scope: 'layerwise', rate: { fc: 0.6 } }).mask, 'fc.weight')).toEqual([0, 0, 1, 0, 1]);
  });

  it('treats -0 and 0 as the same magnitude', () => {
    const t = bundle([['fc.weight', 'fc', [4], [0.5, -0, 0, 0.25]]]);
    expect(maskOf(magnitudePrune(t, { scope: 'layerwise', rate: { fc: 0.25 } }).mask, 'fc.weight')).toEqual([1, 0, 1, 1]);
  });

  it('one-shot target: each layer keeps round(target * total), never reviving pruned weights', () => {
    const t = bundle([
      ['fc.weight', 'fc', [10], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map((x) => x / 10)],
      ['out.weight', 'output', [4], [0.4, 0.3, 0.2, 0.1]],
    ]);
    const { mask } = magnitudePrune(t, { scope: 'layerwise', target: { fc: 0.3, output: 0.5 } });
    expect(maskOf(mask, 'fc.weight')).toEqual([0, 0, 0, 0, 0, 0, 0, 1, 1, 1]);
    expect(maskOf(mask, 'out.weight')).toEqual([1, 1, 0, 0]);
    // from that mask, a looser target changes nothing (masks nest)
    const again = magnitudePrune(t, { scope: 'layerwise', target: { fc: 0.6 } }, mask);
    expect(maskOf(again.mask, 'fc.weight')).toEqual([0, 0, 0, 0, 0, 0, 0, 1, 1, 1]);
  });
});

describe('magnitudePrune, global', () => {
  const w = bundle([
    ['a.weight', 'conv', [4], [0.9, 0.1, 0.4, 0.2]],
    ['b.weight', 'conv', [6], [0.3, 0.05, 0.8, 0.6, 0.7, 0.15]],
    ['out.weight', 'output', [2], [0.01, 0.02]],
  ]);

  it('uses one threshold over the union of the chosen roles and keeps the others', () => {
    const { mask, sparsity } = magnitudePrune(w, { scope: 'global', roles: ['conv'], rate: 0.5 });
    // 5 of 10 conv weights go: 0.05 (b1), 0.1 (a1), 0.15 (b5), 0.2 (a3), 0.3 (b0)
    expect(maskOf(mask, 'a.weight')).toEqual([1, 0, 1, 0]);
    expect(maskOf(mask, 'b.weight')).toEqual([0, 0, 1, 1, 1, 0]);
    expect(maskOf(mask, 'out.weight')).toEqual([1, 1]);
    expect(sparsity.meta).toMatchObject({ total: 12, remaining: 7 });
  });

  it('breaks ties across layers by bundle order', () => {
    const t = bundle([
      ['a.weight', 'conv', [2], [0.5, 0.3]],
      ['b.weight', 'conv', [2], [0.3, 0.5]],
    ]);
    const { mask } = magnitudePrune(t, { scope: 'global', roles: ['conv'], rate: 0.25 });
    expect(maskOf(mask, 'a.weight')).toEqual([1, 0]);
    expect(maskOf(mask, 'b.weight')).toEqual([1, 1]);
  });

  it('one-shot target over the union', () => {
    const { mask } = magnitudePrune(w, { scope: 'global', roles: ['conv'], target: 0.2 });
    expect(maskOf(mask, 'a.weight')).toEqual([1, 0, 0, 0]);
    expect(maskOf(mask, 'b.weight')).toEqual([0, 0, 1, 0, 0, 0]);
  });
});

describe('iterative pruning over rounds', () => {
  const layers: Array<[string, 'fc' | 'output' | 'bias', number[]]> = [
    ['fc1.weight', 'fc', [50, 30]],
    ['fc1.bias', 'bias', [30]],
    ['fc2.weight', 'fc', [30, 20]],
    ['out.weight', 'output', [20, 10]],
  ];
  const spec = { scope: 'layerwise', rate: { fc: 0.2, output: 0.1 } } as const;

  it('nests masks and keeps 0.8^n (fc) and 0.9^n (output) to rounding after 3 rounds', () => {
    let mask;
    const expected = {
      round: [
        [1200, 480, 180],
        [960, 384, 162],
        [768, 307, 146],
      ],
      ceil: [
        [1200, 480, 180],
        [960, 384, 162],
        [768, 307, 145],
      ],
    };
    for (const rounding of ['round', 'ceil'] as const) {
      mask = undefined;
      for (let n = 1; n <= 3; n++) {
        // new "trained" weights every round: pruned positions hold large values that must not come back
        const w = randomWeights(layers, 100 * n);
        for (const t of w.tensors)
          if (mask) {
            const m = mask.tensors.find((x) => x.name === t.name);
            if (m) m.values.forEach((v, i) => v === 0 && (t.values[i] = 1000));
          }
        const r = magnitudePrune(w, { ...spec, rounding }, mask);
        const kept = r.sparsity.layers.map((l) => l.remaining);
        expect(kept).toEqual(expected[rounding][n - 1]);
        [1500, 600].forEach((total, i) => expect(Math.abs((kept[i] as number) - total * 0.8 ** n)).toBeLessThanOrEqual(n));
        expect(Math.abs((kept[2] as number) - 200 * 0.9 ** n)).toBeLessThanOrEqual(n);
        if (mask) {
          for (const t of r.mask.tensors) {
            const prev = mask.tensors.find((x) => x.name === t.name)?.values as Uint8Array;
            t.values.forEach((v, i) => expect(v <= (prev[i] as number)).toBe(true));
          }
        }
        expect(r.mask.meta.info?.['round']).toBe(n);
        mask = r.mask;
      }
    }
  });

  it('one-shot with rounds: n gives exactly the counts of n iterative rounds', () => {
    const w = randomWeights(layers, 7);
    const r = magnitudePrune(w, { ...spec, rounds: 3 });
    expect(r.sparsity.layers.map((l) => l.remaining)).toEqual([768, 307, 146]);
    expect(r.mask.meta.info?.['round']).toBe(3);
  });
});

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

describe('errors name the tensor and the problem', () => {
  const w = bundle([
    ['fc.weight', 'fc', [2, 2], [1, 2, 3, 4]],
    ['fc.bias', 'bias', [2], [0, 0]],
  ]);
  const mask = (values: number[], shape = [2, 2], name = 'fc.weight') => ({
    meta: { content: 'mask' as const, model: { arch: 'toy', options: {} } },
    tensors: [{ name, role: 'fc' as const, shape, values: Uint8Array.from(values) }],
  });
  const spec = { scope: 'layerwise', rate: { fc: 0.5 } } as const;

  it('mask does not fit the weights', () => {
    expect(() => magnitudePrune(w, spec, mask([1, 1, 1, 1], [4]))).toThrow("pruner/magnitude: mask tensor 'fc.weight' has shape [4], weights have [2,2]");
    expect(() => magnitudePrune(w, spec, mask([1, 1], [2], 'x'))).toThrow("pruner/magnitude: mask tensor 'x' is not a prunable tensor of the weights");
    expect(() => magnitudePrune(w, spec, { ...mask([]), tensors: [] })).toThrow("pruner/magnitude: mask has no tensor 'fc.weight' (role fc)");
    expect(() => magnitudePrune(w, spec, mask([1, 3, 1, 1]))).toThrow("pruner/magnitude: mask tensor 'fc.weight' has value 3 at flat index 1");
    const other = mask([1, 1, 1, 1]);
    other.meta.model.arch = 'conv2';
    expect(() => magnitudePrune(w, spec, other)).toThrow("mask is for model 'conv2', weights are for 'toy'");
  });
  it('weights that cannot be ranked', () => {
    expect(() => magnitudePrune(bundle([['fc.weight', 'fc', [2], [1, NaN]]]), spec)).toThrow("weights tensor 'fc.weight' has NaN at flat index 1");
    expect(() => magnitudePrune({ ...w, meta: { ...w.meta, content: 'checkpoint' } }, spec)).toThrow(
      'bundle of several checkpoints; select one iteration first',
    );
    expect(() => magnitudePrune({ ...w, meta: { ...w.meta, content: 'mask' } }, spec)).toThrow("'weights' is a mask bundle");
    expect(() => magnitudePrune(w, { scope: 'global', roles: ['conv'], rate: 0.2 })).toThrow(
      'global pruning over roles [conv] but the model has no tensor of those roles (has: fc)',
    );
  });
  it('leaves the inputs untouched', () => {
    const m = mask([1, 1, 1, 1]);
    magnitudePrune(w, spec, m);
    expect(Array.from(m.tensors[0]?.values ?? [])).toEqual([1, 1, 1, 1]);
  });
});
