import { ReportConfig } from './config';
import { collectRuns } from './runs';
import { summarize, summaryTable, SUMMARY_COLUMNS } from './summary';
import { earlyStopOf } from './analyze';
import { PM, run, scenario, sparsity } from './__tests__/fixtures';

const cfg = (c: Parameters<typeof ReportConfig.parse>[0] = {}) => ReportConfig.parse({ seeds: 2, ...(c as object) });

describe('early stop', () => {
  it('is the iteration of minimum validation loss, with the test accuracy there', () => {
    const es = earlyStopOf(run({ esIndex: 2, base: 0.9 }));
    expect(es?.iteration).toBe(200);
    expect(es?.testAccuracy).toBeCloseTo(0.92, 12);
  });
  it('prefers the trainer-recorded meta.earlyStop', () => {
    const m = run({ esIndex: 2, base: 0.9 });
    m.meta.earlyStop = { iteration: 300, validationLoss: 0, validationAccuracy: 1, testAccuracy: 0.5 };
    expect(earlyStopOf(m)?.iteration).toBe(300);
  });
  it('is null without validation rows', () => {
    const m = run({ esIndex: 2, base: 0.9 });
    m.rows = m.rows.filter((r) => r.split !== 'validation');
    expect(earlyStopOf(m)).toBeNull();
  });
});

describe('summary', () => {
  const { tickets, reinit, randomPrune } = scenario();
  const { variants, runs } = collectRuns({ tickets, reinit, randomPrune }, cfg());
  const rows = summarize(variants, runs);
  const row = (variant: string, round: number) => rows.find((r) => r.variant === variant && r.round === round)!;

  it('has one row per (variant, round), dense round shared', () => {
    expect(rows.map((r) => `${r.variant}:${r.round}`)).toEqual([
      'winning ticket:0',
      'winning ticket:1',
      'winning ticket:2',
      'winning ticket:3',
      'random reinit:0',
      'random reinit:1',
      'random reinit:2',
      'random reinit:3',
      'random pruning:0',
      'random pruning:1',
      'random pruning:2',
      'random pruning:3',
    ]);
    expect(rows.every((r) => r.seeds === 2)).toBe(true);
    expect(row('random reinit', 0)).toEqual({ ...row('winning ticket', 0), variant: 'random reinit' });
  });

  it('matches hand-computed values for tickets', () => {
    // Round 3: seed 0 esIndex 1, base 0.93 -> ES 100, acc 0.94; seed 1 esIndex 3, base 0.95 -> ES 300, acc 0.98.
    const r3 = row('winning ticket', 3);
    expect(r3.pm).toBeCloseTo(0.512, 12);
    expect(r3.earlyStopIteration).toBe(200);
    expect(r3.earlyStopIterationMin).toBe(100);
    expect(r3.earlyStopIterationMax).toBe(300);
    expect(r3.testAccuracy).toBeCloseTo(0.96, 12);
    expect(r3.testAccuracyMin).toBeCloseTo(0.94, 12);
    expect(r3.testAccuracyMax).toBeCloseTo(0.98, 12);
    expect(r3.testAccuracyStd).toBeCloseTo(Math.SQRT2 * 0.02, 12);
    // Final test: base + 0.04 -> mean(0.97, 0.99); final train: base + 0.058 -> mean(0.988, 1.008).
    expect(r3.finalTestAccuracy).toBeCloseTo(0.98, 12);
    expect(r3.finalTrainAccuracy).toBeCloseTo(0.998, 12);
    // Round 1: both seeds esIndex 3; bases 0.91, 0.93 -> acc 0.94, 0.96.
    const r1 = row('winning ticket', 1);
    expect(r1.pm).toBeCloseTo(0.8, 12);
    expect([r1.earlyStopIteration, r1.earlyStopIterationMin, r1.earlyStopIterationMax]).toEqual([300, 300, 300]);
    expect(r1.testAccuracy).toBeCloseTo(0.95, 12);
  });

  it('gives controls the tickets\u2019 Pm of the same round', () => {
    for (const r of [1, 2, 3]) {
      expect(row('random reinit', r).pm).toBeCloseTo(PM[r]!, 12);
      expect(row('random pruning', r).pm).toBeCloseTo(PM[r]!, 12);
    }
    // Reinit round 2: esIndex 4, bases 0.84 and 0.85 -> acc 0.88, 0.89.
    expect(row('random reinit', 2).testAccuracy).toBeCloseTo(0.885, 12);
    expect(row('random reinit', 2).earlyStopIteration).toBe(400);
  });

  it('builds a table artifact with the declared columns', () => {
    const t = summaryTable(rows, 'x');
    expect(t.meta.columns.map((c) => c.name)).toEqual(SUMMARY_COLUMNS.map((c) => c.name));
    expect(t.rows[3]!['earlyStopIteration']).toBe(200);
    expect(t.rows[0]!['variant']).toBe('winning ticket');
  });

  it('uses a single seed std of null', () => {
    const one = collectRuns({ tickets: [run({ esIndex: 4, base: 0.9, remaining: 1 })] }, ReportConfig.parse({}));
    expect(summarize(one.variants, one.runs)[0]!.testAccuracyStd).toBeNull();
  });
});

describe('Pm alignment', () => {
  it('takes Pm from ticketSparsity offset by one when tickets start with the dense run', () => {
    const { tickets } = scenario({ remainingOnTickets: false });
    const ticketSparsity = [PM[1]!, PM[2]!, PM[3]!].map(sparsity);
    const { runs } = collectRuns({ tickets, ticketSparsity }, cfg());
    const pms = runs.filter((r) => r.seed === 1).map((r) => r.pm);
    expect(pms).toEqual([1, 0.8, 0.64, 0.512]);
  });

  it('aligns a per-seed, per-round sparsity list including the dense mask', () => {
    const { tickets } = scenario({ remainingOnTickets: false });
    const ticketSparsity = [...PM, ...PM].map(sparsity);
    ticketSparsity[5] = sparsity(0.7); // seed 1, round 1
    const { runs } = collectRuns({ tickets, ticketSparsity }, cfg());
    expect(runs.find((r) => r.seed === 1 && r.round === 1)?.pm).toBeCloseTo(0.7, 12);
    expect(runs.find((r) => r.seed === 0 && r.round === 1)?.pm).toBeCloseTo(0.8, 12);
  });

  it('falls back to config.rate, and names the run when Pm is unknown', () => {
    const { tickets } = scenario({ remainingOnTickets: false });
    const { runs } = collectRuns({ tickets }, cfg({ rate: 0.2 }));
    expect(runs.map((r) => r.pm)).toEqual(PM.concat(PM).map((p) => expect.closeTo(p, 12)));
    expect(() => collectRuns({ tickets }, cfg())).toThrow(/tickets\[1\] \(round 1\): Pm unknown/);
  });

  it('reads round-major lists and a separate dense port', () => {
    const { tickets } = scenario();
    // round-major without the dense runs: r1s0, r1s1, r2s0, ...
    const pruned = [1, 2, 3].flatMap((r) => [tickets[r]!, tickets[4 + r]!]);
    const dense = [tickets[0]!, tickets[4]!];
    const c = collectRuns({ tickets: pruned, dense }, cfg({ order: 'round-major' }));
    const rows = summarize(c.variants, c.runs);
    const ref = collectRuns({ tickets }, cfg());
    expect(rows).toEqual(summarize(ref.variants, ref.runs));
  });

  it('rejects lists that do not fit the seeds', () => {
    const { tickets } = scenario();
    expect(() => collectRuns({ tickets: tickets.slice(0, 7) }, cfg())).toThrow(/'tickets' has 7 runs, not a multiple of config.seeds = 2/);
    expect(() => collectRuns({ tickets, ticketSparsity: [sparsity(0.5)] }, cfg())).toThrow(/'ticketSparsity' has 1 artifacts/);
  });

  it('splits compare into one variant per label', () => {
    const { tickets } = scenario();
    const compare = [0.8, 0.5, 0.3, 0.8, 0.5, 0.3].map((pm, i) => run({ esIndex: 2, base: 0.9 + i * 0.001, remaining: pm }));
    const c = collectRuns({ tickets: tickets.slice(0, 4), compare }, ReportConfig.parse({ labels: { compare: ['one-shot', 'dropout'] } }));
    expect(c.variants.map((v) => v.label)).toEqual(['winning ticket', 'one-shot', 'dropout']);
    const oneShot = c.runs.filter((r) => r.variant === 'one-shot');
    // A part that starts pruned (Pm 0.8) is rounds 1.., and shares the tickets' dense round 0.
    expect(oneShot.map((r) => [r.round, r.pm])).toEqual([
      [0, 1],
      [1, 0.8],
      [2, 0.5],
      [3, 0.3],
    ]);
    expect(oneShot[0]!.metrics).toBe(tickets[0]);
    // A part that starts with its own dense run (Pm 1) keeps it as round 0.
    const own = [1, 0.5].map((pm) => run({ esIndex: 2, base: 0.8, remaining: pm }));
    const d = collectRuns({ tickets: tickets.slice(0, 4), compare: own }, ReportConfig.parse({ labels: { compare: ['dropout'] } }));
    expect(d.runs.filter((r) => r.variant === 'dropout').map((r) => [r.round, r.pm, r.metrics === own[0]])).toEqual([
      [0, 1, true],
      [1, 0.5, false],
    ]);
    expect(() => collectRuns({ tickets, compare: compare.slice(0, 5) }, ReportConfig.parse({ labels: { compare: ['a', 'b'] } }))).toThrow(
      /does not split into 2 equal parts/,
    );
  });

  it('numbers a ticket list without the dense run from round 1', () => {
    const { tickets, reinit } = scenario();
    const pruned = tickets.slice(1, 4);
    const c = collectRuns({ tickets: pruned, reinit: reinit.slice(0, 3) }, ReportConfig.parse({}));
    expect(c.runs.map((r) => `${r.variant}:${r.round}`)).toEqual([
      'winning ticket:1',
      'winning ticket:2',
      'winning ticket:3',
      'random reinit:1',
      'random reinit:2',
      'random reinit:3',
    ]);
    expect(c.warnings).toEqual([]);
  });

  it('warns when Pm rises along a ticket list (seeds without config.seeds)', () => {
    const { tickets } = scenario();
    const c = collectRuns({ tickets }, ReportConfig.parse({}));
    expect(c.warnings).toHaveLength(1);
    expect(c.warnings[0]).toMatch(/Pm rises from 0.512 \(tickets\[3\], round 3\) to 1 \(tickets\[4\], round 4\).*config.seeds/);
  });
});

describe('accuracy at fixed iterations (config.at: the VGG-19 / ResNet-18 figures)', () => {
  const { tickets } = scenario();
  const { variants, runs } = collectRuns({ tickets }, cfg({ at: [150, 260, 1000] }));
  const rows = summarize(variants, runs, [150, 260, 1000]);

  it('takes each run at its evaluation nearest the iteration (the earlier one on a tie), aggregated over seeds', () => {
    // Round 3: bases 0.93 and 0.95, test accuracy base + 0.01 k at iteration 100 k (k = 0..4).
    const r3 = rows.find((r) => r.variant === 'winning ticket' && r.round === 3)!;
    const [at150, at260, at1000] = r3.at;
    expect(at150?.iteration).toBe(150); // 100 and 200 are equally near: 100 is used
    expect(at150?.mean).toBeCloseTo(0.95, 12);
    expect([at150?.min, at150?.max]).toEqual([expect.closeTo(0.94, 12), expect.closeTo(0.96, 12)]);
    expect(at150?.std).toBeCloseTo(Math.SQRT2 * 0.01, 12);
    expect(at260?.mean).toBeCloseTo(0.97, 12); // 300
    expect(at1000?.mean).toBeCloseTo(0.98, 12); // the last evaluation, 400
  });

  it('adds mean/Min/Max/Std columns per iteration to the summary table, after the standard ones', () => {
    const t = summaryTable(rows, 'x', [150, 260, 1000]);
    const names = t.meta.columns.map((c) => c.name);
    expect(names.slice(0, SUMMARY_COLUMNS.length)).toEqual(SUMMARY_COLUMNS.map((c) => c.name));
    expect(names.slice(SUMMARY_COLUMNS.length, SUMMARY_COLUMNS.length + 4)).toEqual([
      'testAccuracyAt150',
      'testAccuracyAt150Min',
      'testAccuracyAt150Max',
      'testAccuracyAt150Std',
    ]);
    const r3 = t.rows.find((r) => r['variant'] === 'winning ticket' && r['round'] === 3)!;
    expect(r3['testAccuracyAt260']).toBeCloseTo(0.97, 12);
    // Without config.at the table is unchanged.
    expect(summaryTable(summarize(variants, runs), 'x').meta.columns.map((c) => c.name)).toEqual(SUMMARY_COLUMNS.map((c) => c.name));
  });
});
