import { rungBudgets, shaNext, shaPromoted } from './successive-halving';
import { reachedByRung, simulate } from './simulate';
import { sched, value } from './__tests__/hand-worked';

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
    expect(
      shaPromoted(
        [
          { trial: 3, value: 1 },
          { trial: 1, value: 1 },
          { trial: 2, value: 1 },
        ],
        3,
        'maximize',
      ),
    ).toEqual([1]);
    expect(
      shaPromoted(
        [
          { trial: 0, value: null },
          { trial: 1, value: 0.2 },
          { trial: 2, value: null },
        ],
        3,
        'minimize',
      ),
    ).toEqual([1]);
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
