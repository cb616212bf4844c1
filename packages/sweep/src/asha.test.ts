import { ashaNext } from './asha';
import { reachedByRung, simulate } from './simulate';
import { sched, value } from './__tests__/hand-worked';

// See successive-halving.test.ts for the SHA runs over the same hand-worked values.
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
