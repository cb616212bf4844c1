import { PruneSpec, RandomConfig } from './index';

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
