import { magnitudePrune, PruneSpec, RandomConfig } from './index';
import { bundle } from './__tests__/testing';

const w = bundle([
  ['fc.weight', 'fc', [2, 2], [1, 2, 3, 4]],
  ['fc.bias', 'bias', [2], [0, 0]],
]);
const mask = (values: number[], shape = [2, 2], name = 'fc.weight') => ({
  meta: { content: 'mask' as const, model: { arch: 'toy', options: {} } },
  tensors: [{ name, role: 'fc' as const, shape, values: Uint8Array.from(values) }],
});
const spec = { scope: 'layerwise', rate: { fc: 0.5 } } as const;

describe('config', () => {
  const issues = (v: unknown) => {
    const r = PruneSpec.safeParse(v);
    return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  };
  it('accepts the four forms and fills defaults', () => {
    expect(PruneSpec.parse({ scope: 'layerwise', rate: { fc: 0.2 } })).toEqual({ scope: 'layerwise', rate: { fc: 0.2 }, rounding: 'round' });
    expect(PruneSpec.parse({ scope: 'layerwise', target: { conv: 0.5 } }).scope).toBe('layerwise');
    expect(PruneSpec.parse({ scope: 'global', roles: ['conv'], rate: 0.2, rounding: 'ceil' }).rounding).toBe('ceil');
    expect(PruneSpec.parse({ scope: 'global', roles: ['conv'], target: 0.1 }).scope).toBe('global');
  });
  it('rejects bad configs with the field named', () => {
    expect(issues({ scope: 'layerwise', rate: { fc: 0.2 }, target: { fc: 0.5 } }).join()).toMatch(/exactly one of 'rate'/);
    expect(issues({ scope: 'global', roles: ['conv'] }).join()).toMatch(/exactly one of 'rate'/);
    expect(issues({ scope: 'layerwise', target: { fc: 0.5 }, rounds: 2 }).join()).toMatch(/rounds: 'rounds' needs 'rate'/);
    expect(issues({ scope: 'layerwise', rate: { fc: 1 } }).join()).toMatch(/^rate.fc: /);
    expect(issues({ scope: 'layerwise', rate: { bias: 0.1 } }).join()).toMatch(/bias/);
    expect(issues({ scope: 'global', roles: [], rate: 0.2 }).join()).toMatch(/^roles: /);
    expect(issues({ scope: 'global', roles: ['batchnorm'], rate: 0.2 }).join()).toMatch(/^roles.0: /);
    expect(issues({ scope: 'everywhere', rate: 0.2 }).join()).toMatch(/^scope: /);
    expect(RandomConfig.safeParse({}).success).toBe(false);
  });
});

describe('errors name the tensor and the problem', () => {
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
    expect(() => magnitudePrune({ ...w, meta: { ...w.meta, content: 'checkpoint' } }, spec)).toThrow('bundle of several checkpoints; select one iteration first');
    expect(() => magnitudePrune({ ...w, meta: { ...w.meta, content: 'mask' } }, spec)).toThrow("'weights' is a mask bundle");
    expect(() => magnitudePrune(w, { scope: 'global', roles: ['conv'], rate: 0.2 })).toThrow('global pruning over roles [conv] but the model has no tensor of those roles (has: fc)');
  });
  it('leaves the inputs untouched', () => {
    const m = mask([1, 1, 1, 1]);
    magnitudePrune(w, spec, m);
    expect(Array.from(m.tensors[0]?.values ?? [])).toEqual([1, 1, 1, 1]);
  });
});
