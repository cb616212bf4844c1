import { nextNewTrial, ranked, type Action, type Job, type Schedule } from './successive-halving';

/**
 * ASHA (Li et al. 2018, "A System for Massively Parallel Hyperparameter Tuning", Algorithm 2):
 * when a worker is free, look from the highest rung down for a trial that is in the top
 * floor(n / eta) of the n completed jobs of its rung and has not been promoted yet, and
 * promote it one rung; if there is none, start a new trial at the bottom rung. Nothing ever
 * waits for a rung to fill, so promotions can be "wrong" early on (a trial promoted from a
 * rung of 3 may later fall out of that rung's top third): that is the algorithm's trade.
 */
export function ashaNext(jobs: readonly Job[], s: Schedule): Action {
  for (let k = s.rungs - 2; k >= 0; k--) {
    const done = ranked(jobs, k, s.direction);
    const top = done.slice(0, Math.floor(done.length / s.eta)).filter((j) => j.value !== null);
    const next = top.find((j) => !jobs.some((x) => x.trial === j.trial && x.rung === k + 1));
    if (next) return { type: 'promote', trial: next.trial, rung: k + 1 };
  }
  const fresh = nextNewTrial(jobs, s.trials);
  if (fresh !== undefined) return { type: 'start', trial: fresh };
  return jobs.some((j) => !j.done) ? { type: 'wait' } : { type: 'done' };
}
