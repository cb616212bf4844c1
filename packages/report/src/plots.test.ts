import { ReportConfig } from './config';
import { collectRuns } from './runs';
import { summarize } from './summary';
import { curveRounds, lotteryPlots } from './plots';
import { scenario } from './__tests__/fixtures';

type Layer = { mark: { type: string }; data: { values: Record<string, number | string>[] } };

describe('plots', () => {
  const { tickets, reinit } = scenario();
  const { variants, runs } = collectRuns({ tickets, reinit }, ReportConfig.parse({ seeds: 2 }));
  const rows = summarize(variants, runs);

  it('draws min..max or mean ± sd error bars across seeds', () => {
    const bars = (errorBars: 'minmax' | 'std') => {
      const [acc] = lotteryPlots(rows, runs, variants, { curves: [1], errorBars });
      const rule = (acc!.spec as unknown as { layer: Layer[] }).layer.find((l) => l.mark.type === 'rule')!;
      return rule.data.values.find((v) => v['variant'] === 'winning ticket' && v['pm'] === 0.512)!;
    };
    // Ticket round 3: accuracies 0.94 and 0.98 (see fixtures).
    expect(bars('minmax')).toMatchObject({ lo: expect.closeTo(0.94, 12), hi: expect.closeTo(0.98, 12) });
    expect(bars('std')).toMatchObject({ lo: expect.closeTo(0.96 - 0.02 * Math.SQRT2, 12), hi: expect.closeTo(0.96 + 0.02 * Math.SQRT2, 12) });
  });

  it('has no error bars with one seed', () => {
    const one = collectRuns({ tickets: tickets.slice(0, 4) }, ReportConfig.parse({}));
    const [acc] = lotteryPlots(summarize(one.variants, one.runs), one.runs, one.variants, { curves: [1], errorBars: 'minmax' });
    expect((acc!.spec as unknown as { layer: Layer[] }).layer.map((l) => l.mark.type)).toEqual(['line', 'point']);
  });

  it('picks the round nearest each target Pm (log distance) without repeats', () => {
    // Pm 1, 0.8, 0.64, 0.512
    expect(curveRounds(runs, 'winning ticket', [1, 0.7, 0.5, 0.01])).toEqual([0, 2, 3]);
    expect(curveRounds(runs, 'winning ticket', [0.9])).toEqual([0]);
    expect(curveRounds(runs, 'nobody', [1])).toEqual([]);
  });

  it('averages the learning curves over seeds', () => {
    const curves = lotteryPlots(rows, runs, variants, { curves: [0.512], errorBars: 'minmax' })[2]!;
    const values = (curves.spec as unknown as { data: { values: { variant: string; round: number; iteration: number; accuracy: number }[] } }).data.values;
    const t3 = values.filter((v) => v.variant === 'winning ticket' && v.round === 3);
    // Bases 0.93 and 0.95: mean test accuracy at iteration 100k is 0.94 + 0.01 k.
    expect(t3.map((v) => v.iteration)).toEqual([0, 100, 200, 300, 400]);
    t3.forEach((v, k) => expect(v.accuracy).toBeCloseTo(0.94 + 0.01 * k, 12));
    expect(curves.lines).toBe(2);
  });
});
