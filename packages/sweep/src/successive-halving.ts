/**
 * Successive halving (Jamieson & Talwalkar 2016; Li et al. 2018), synchronous form, as a pure
 * decision function over the jobs started so far. A job is one trial trained at one rung's
 * budget; the scheduler asks `next` whenever a worker is free and does what it says.
 */

export type Direction = 'maximize' | 'minimize';

/** One trial at one rung. `value` is null while running, and for a failed run (or a NaN objective). */
export interface Job {
  trial: number;
  rung: number;
  done: boolean;
  value: number | null;
}

export interface Schedule {
  /** Trials in the study (trial numbers 0..trials-1). */
  trials: number;
  /** Number of rungs (budgets minBudget * eta^k, see `rungBudgets`). */
  rungs: number;
  eta: number;
  direction: Direction;
}

export type Action = { type: 'start'; trial: number } | { type: 'promote'; trial: number; rung: number } | { type: 'wait' } | { type: 'done' };

/**
 * Rung budgets minBudget * eta^k below maxBudget, then maxBudget itself (so the top rung is
 * always the full budget, even when maxBudget is not minBudget times a power of eta).
 */
export function rungBudgets(minBudget: number, maxBudget: number, eta: number): number[] {
  if (!(minBudget > 0) || !(maxBudget >= minBudget)) throw new Error(`budgets: need 0 < minBudget <= maxBudget, got ${minBudget} and ${maxBudget}`);
  if (!(eta >= 2)) throw new Error(`eta must be at least 2, got ${eta}`);
  const out: number[] = [];
  // Rounded so that budgets are whole iterations; the 1e-9 guards 100 * 3^2 = 900.0000001.
  for (let b = minBudget; b < maxBudget * (1 - 1e-9); b *= eta) out.push(Math.round(b));
  out.push(Math.round(maxBudget));
  return [...new Set(out)];
}

/**
 * Completed jobs of a rung, best first: by value in the direction, failed (null) last, ties
 * by trial number so that the same results always give the same promotions.
 */
export function ranked(jobs: readonly Job[], rung: number, direction: Direction): Job[] {
  const sign = direction === 'maximize' ? -1 : 1;
  return jobs
    .filter((j) => j.rung === rung && j.done)
    .sort((a, b) => {
      if (a.value === null || b.value === null) return a.value === null && b.value === null ? a.trial - b.trial : a.value === null ? 1 : -1;
      return sign * (a.value - b.value) || a.trial - b.trial;
    });
}

/** The lowest trial number that has no job yet (a trial interrupted before finishing its first rung has none). */
export function nextNewTrial(jobs: readonly Job[], trials: number): number | undefined {
  const used = new Set(jobs.map((j) => j.trial));
  for (let t = 0; t < trials; t++) if (!used.has(t)) return t;
  return undefined;
}

const hasJob = (jobs: readonly Job[], trial: number, rung: number) => jobs.some((j) => j.trial === trial && j.rung === rung);

/**
 * SHA: every trial runs the bottom rung; when a rung has finished completely, its best
 * max(1, floor(n / eta)) trials with a value (n = trials that ran the rung) go up one rung.
 * "At least one" keeps a small study from ending below the full budget.
 */
export function shaNext(jobs: readonly Job[], s: Schedule): Action {
  const fresh = nextNewTrial(jobs, s.trials);
  if (fresh !== undefined) return { type: 'start', trial: fresh };
  for (let k = 0; k < s.rungs - 1; k++) {
    const here = jobs.filter((j) => j.rung === k);
    if (here.some((j) => !j.done)) return { type: 'wait' };
    const keep = Math.max(1, Math.floor(here.length / s.eta));
    const winners = ranked(jobs, k, s.direction)
      .slice(0, keep)
      .filter((j) => j.value !== null);
    const next = winners.find((j) => !hasJob(jobs, j.trial, k + 1));
    if (next) return { type: 'promote', trial: next.trial, rung: k + 1 };
  }
  return jobs.some((j) => !j.done) ? { type: 'wait' } : { type: 'done' };
}

/** The trials SHA promotes out of rung k given that rung's results (for reports and tests). */
export function shaPromoted(values: ReadonlyArray<{ trial: number; value: number | null }>, eta: number, direction: Direction): number[] {
  const jobs = values.map((v) => ({ ...v, rung: 0, done: true }));
  const keep = Math.max(1, Math.floor(jobs.length / eta));
  return ranked(jobs, 0, direction)
    .slice(0, keep)
    .filter((j) => j.value !== null)
    .map((j) => j.trial);
}
