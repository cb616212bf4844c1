import type { Action, Job, Schedule } from './successive-halving';

export interface SimStep {
  trial: number;
  rung: number;
}

/**
 * Runs a pruner's decision function against known objective values, with `workers` jobs at
 * once finishing in the order they started: the trial-rungs in the order they were started.
 * For hand-worked examples (tests, docs) of which trials SHA / ASHA promote.
 */
export function simulate(
  next: (jobs: readonly Job[], s: Schedule) => Action,
  s: Schedule,
  value: (trial: number, rung: number) => number | null,
  workers = 1,
): SimStep[] {
  const jobs: Job[] = [];
  const order: SimStep[] = [];
  const queue: Job[] = [];
  for (let guard = 0; guard < 100_000; guard++) {
    while (queue.length < workers) {
      const a = next(jobs, s);
      if (a.type !== 'start' && a.type !== 'promote') break;
      const job: Job = { trial: a.trial, rung: a.type === 'start' ? 0 : a.rung, done: false, value: null };
      jobs.push(job);
      queue.push(job);
      order.push({ trial: job.trial, rung: job.rung });
    }
    const j = queue.shift();
    if (!j) return order;
    j.done = true;
    j.value = value(j.trial, j.rung);
  }
  throw new Error('simulate: the decision function did not finish');
}

/** Trial numbers that reached each rung (index = rung), ascending. */
export function reachedByRung(order: readonly SimStep[], rungs: number): number[][] {
  return Array.from({ length: rungs }, (_, k) =>
    order
      .filter((o) => o.rung === k)
      .map((o) => o.trial)
      .sort((a, b) => a - b),
  );
}
