import { gridTrials, sampleTrials } from './sampler';
import { spaceFromText } from './space';

const OBJ = 'objective: { stage: m, metric: test.accuracy@last, direction: maximize }';

describe('samplers', () => {
  const space = (extra = '') =>
    spaceFromText(
      's.yaml',
      `trials: 20\nseed: 7\n${extra}params:\n  lr: { type: loguniform, low: 1.0e-4, high: 0.1 }\n  n: { type: int, low: 2, high: 10, step: 2 }\n  act: { type: choice, values: [relu, tanh] }\n${OBJ}\n`,
    ).space;

  it('random: the same seed gives the same trials; another seed others; values inside the space', () => {
    const a = sampleTrials(space());
    expect(sampleTrials(space())).toEqual(a);
    const other = sampleTrials({ ...space(), seed: 8 });
    expect(other).not.toEqual(a);
    for (const t of a) {
      expect(t['lr']).toBeGreaterThanOrEqual(1e-4);
      expect(t['lr']).toBeLessThanOrEqual(0.1);
      expect([2, 4, 6, 8, 10]).toContain(t['n']);
      expect(['relu', 'tanh']).toContain(t['act']);
    }
    // Spread over the decades (one stream, not near-equal first draws of similar seeds).
    const decades = new Set(a.map((t) => Math.floor(Math.log10(t['lr'] as number))));
    expect(decades.size).toBeGreaterThanOrEqual(3);
    // Trial i does not depend on the number of trials.
    expect(sampleTrials({ ...space(), trials: 5 })).toEqual(a.slice(0, 5));
  });

  it('grid: every combination, the first param slowest, log-spaced points', () => {
    const s = spaceFromText(
      's.yaml',
      `sampler: grid\nparams:\n  lr: { type: loguniform, low: 0.001, high: 0.1, points: 3 }\n  n: { type: int, low: 1, high: 2 }\n${OBJ}\n`,
    ).space;
    expect(gridTrials(s)).toEqual([
      { lr: 0.001, n: 1 },
      { lr: 0.001, n: 2 },
      { lr: 0.01, n: 1 },
      { lr: 0.01, n: 2 },
      { lr: 0.1, n: 1 },
      { lr: 0.1, n: 2 },
    ]);
    expect(sampleTrials({ ...s, trials: 4 })).toHaveLength(4);
    expect(sampleTrials(s)).toHaveLength(6);
  });
});
