import { ashaNext } from './asha';
import { rungBudgets, shaNext, shaPromoted, type Schedule } from './successive-halving';
import { reachedByRung, simulate } from './simulate';

// Hand-worked: 9 trials, eta 3, budgets 1 / 3 / 9.
const R0 = [0.5, 0.9, 0.1, 0.7, 0.3, 0.8, 0.2, 0.6, 0.4];
const R1: Record<number, number> = { 1: 0.91, 5: 0.95, 3: 0.93, 2: 0.15, 6: 0.25, 4: 0.2 };
const R2: Record<number, number> = { 5: 0.97, 2: 0.3 };
const value = (t: number, r: number) => (r === 0 ? (R0[t] as number) : r === 1 ? (R1[t] ?? NaN) : (R2[t] ?? NaN));
const sched = (over: Partial<Schedule> = {}): Schedule => ({ trials: 9, rungs: 3, eta: 3, direction: 'maximize', ...over });

describe('rungBudgets', () => {
  it('is minBudget * eta^k, ending at maxBudget', () => {
    expect(rungBudgets(1, 9, 3)).toEqual([1, 3, 9]);
    expect(rungBudgets(100, 900, 3)).toEqual([100, 300, 900]);
    expect(rungBudgets(100, 1000, 3)).toEqual([100, 300, 900, 1000]);
    expect(rungBudgets(100, 100, 3)).toEqual([100]);
    expect(rungBudgets(10, 80, 2)).toEqual([10, 20, 40, 80]);
    expect(() => rungBudgets(10, 5, 3)).toThrow(/minBudget <= maxBudget/);
    expect(() => rungBudgets(1, 9, 1)).toThrow(/eta must be at least 2/);
  });
});

describe('SHA', () => {
  it('promotes the top floor(n/eta) of each rung once the rung is complete (9 -> 3 -> 1)', () => {
    const order = simulate(shaNext, sched(), value);
    // rung 0: 0.9 (t1), 0.8 (t5), 0.7 (t3) are the top third; rung 1: t5 (0.95) is the top third of 3.
    expect(reachedByRung(order, 3)).toEqual([[0, 1, 2, 3, 4, 5, 6, 7, 8], [1, 3, 5], [5]]);
    // Every rung 0 job comes before any rung 1 job (synchronous), winners promoted best first.
    expect(order.slice(9)).toEqual([
      { trial: 1, rung: 1 },
      { trial: 5, rung: 1 },
      { trial: 3, rung: 1 },
      { trial: 5, rung: 2 },
    ]);
  });

  it('minimizing picks the lowest values', () => {
    expect(reachedByRung(simulate(shaNext, sched({ direction: 'minimize' }), value), 3)).toEqual([[0, 1, 2, 3, 4, 5, 6, 7, 8], [2, 4, 6], [2]]);
  });

  it('with 4 workers the same trials are promoted (the rung barrier makes SHA order-independent)', () => {
    expect(reachedByRung(simulate(shaNext, sched(), value, 4), 3)).toEqual([[0, 1, 2, 3, 4, 5, 6, 7, 8], [1, 3, 5], [5]]);
  });

  it('breaks ties by trial number and ranks failed trials last', () => {
    expect(shaPromoted([{ trial: 3, value: 1 }, { trial: 1, value: 1 }, { trial: 2, value: 1 }], 3, 'maximize')).toEqual([1]);
    expect(shaPromoted([{ trial: 0, value: null }, { trial: 1, value: 0.2 }, { trial: 2, value: null }], 3, 'minimize')).toEqual([1]);
    // Nothing to promote when every trial of the rung failed: the study ends.
    const order = simulate(shaNext, sched({ trials: 3 }), () => null);
    expect(reachedByRung(order, 3)).toEqual([[0, 1, 2], [], []]);
  });

  it('promotes at least one trial, so a small study still reaches the full budget', () => {
    expect(reachedByRung(simulate(shaNext, sched({ trials: 4 }), value), 3)).toEqual([[0, 1, 2, 3], [1], [1]]);
  });

  it('a single rung (pruner none) runs every trial once', () => {
    expect(simulate(shaNext, sched({ trials: 3, rungs: 1 }), value)).toEqual([0, 1, 2].map((trial) => ({ trial, rung: 0 })));
  });
});

describe('ASHA', () => {
  it('with one worker and values rising with the trial number (hand-worked)', () => {
    // Trial t scores t+1 at every rung. Rung 0 promotes its best as soon as it has 3 results
    // (t2), then each new best (t3, t4, ...); rung 1 promotes once it has 3 (t4), and so on.
    const order = simulate(ashaNext, sched(), (t) => t + 1);
    expect(order).toEqual([
      { trial: 0, rung: 0 },
      { trial: 1, rung: 0 },
      { trial: 2, rung: 0 },
      { trial: 2, rung: 1 }, // rung 0 = {0,1,2}: top 1 is t2
      { trial: 3, rung: 0 },
      { trial: 3, rung: 1 }, // rung 0 = {0..3}: top 1 is t3
      { trial: 4, rung: 0 },
      { trial: 4, rung: 1 }, // rung 0 top 1: t4
      { trial: 4, rung: 2 }, // rung 1 = {2,3,4}: top 1 is t4
      { trial: 5, rung: 0 },
      { trial: 5, rung: 1 }, // rung 0 = {0..5}: top 2 are t5, t4
      { trial: 5, rung: 2 }, // rung 1 = {2..5}: top 1 is t5
      { trial: 6, rung: 0 },
      { trial: 6, rung: 1 },
      { trial: 6, rung: 2 },
      { trial: 7, rung: 0 },
      { trial: 7, rung: 1 },
      { trial: 7, rung: 2 }, // rung 1 = {2..7}: top 2 are t7, t6
      { trial: 8, rung: 0 },
      { trial: 8, rung: 1 }, // rung 0 = {0..8}: top 3 are t8, t7, t6
      { trial: 8, rung: 2 },
    ]);
  });

  it('with the SHA example values: promotes from the highest rung first, never waits for a rung to fill', () => {
    const order = simulate(ashaNext, sched(), value);
    // After t0..t2 (0.5, 0.9, 0.1) t1 goes up; t3 (0.7) is not in the top 1 of 4; after t5
    // (0.8) the top 2 of 6 are t1, t5: t5 goes up; after t8 the top 3 of 9 add t3.
    expect(order.slice(0, 4)).toEqual([
      { trial: 0, rung: 0 },
      { trial: 1, rung: 0 },
      { trial: 2, rung: 0 },
      { trial: 1, rung: 1 },
    ]);
    expect(reachedByRung(order, 3)).toEqual([[0, 1, 2, 3, 4, 5, 6, 7, 8], [1, 3, 5], [5]]);
    expect(order.findIndex((o) => o.trial === 5 && o.rung === 1)).toBeLessThan(order.findIndex((o) => o.trial === 6 && o.rung === 0));
  });

  it('breaks ties by trial number', () => {
    const order = simulate(ashaNext, sched({ trials: 3, rungs: 2 }), () => 1);
    expect(order).toEqual([
      { trial: 0, rung: 0 },
      { trial: 1, rung: 0 },
      { trial: 2, rung: 0 },
      { trial: 0, rung: 1 },
    ]);
  });
});
