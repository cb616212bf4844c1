import type { MetricRow, Metrics } from '@lth/artifacts';
import { earlyStopFrom } from '@lth/trainer';
import { objectiveValue } from './objective';
import { ranked, type Direction } from './successive-halving';

/**
 * ASHA with one training run per trial (`pruner.mode: single-run`), as Optuna's
 * SuccessiveHalvingPruner does: a trial trains once at the full budget; when an evaluation
 * reaches a rung's budget, its objective so far is compared with the values every trial reported
 * at that rung, and a trial outside the top 1/eta is stopped. A promoted trial simply goes on
 * with its own run, so no work is repeated. The decisions are pure functions here; study.ts
 * wires them to the runs.
 */

/**
 * Optuna's rule (`_is_trial_promotable_to_next_rung`): among the n values of the rung (this
 * trial's included), continue when the value is at least as good as the floor(n / eta)-th best.
 * A running trial cannot wait for its rung to fill, so with fewer than eta values it continues
 * only when it is the best so far. Ties continue; a missing value (NaN, failed) never does.
 */
export function ashaContinues(value: number | null, competing: ReadonlyArray<number | null>, eta: number, direction: Direction): boolean {
  if (value === null) return false;
  const keep = Math.max(1, Math.floor(competing.length / eta));
  const order = ranked(
    competing.map((v, i) => ({ trial: i, rung: 0, done: true, value: v })),
    0,
    direction,
  );
  const threshold = order[keep - 1]?.value;
  if (threshold === null || threshold === undefined) return true;
  return direction === 'maximize' ? value >= threshold : value <= threshold;
}

/** An evaluation reported through progress (`{'validation.loss': .., ...}`) as metric rows. */
export function rowsFromValues(iteration: number, values: Readonly<Record<string, number>>): MetricRow[] {
  const rows: MetricRow[] = [];
  for (const split of ['train', 'validation', 'test'] as const) {
    const loss = values[`${split}.loss`];
    const accuracy = values[`${split}.accuracy`];
    if (loss === undefined && accuracy === undefined) continue;
    rows.push({ iteration, split, loss: loss ?? Number.NaN, accuracy: accuracy ?? Number.NaN });
  }
  return rows;
}

/**
 * The objective as if training had ended at `iteration`: from the evaluations up to it, with the
 * early-stopping point recomputed over those (minimum validation loss so far, as the trainer does).
 */
export function objectiveUpTo(rows: readonly MetricRow[], metric: string, iteration: number): number | null {
  const upTo = rows.filter((r) => r.iteration <= iteration);
  const earlyStop = earlyStopFrom(upTo);
  const m: Metrics = { meta: earlyStop ? { earlyStop } : {}, rows: upTo };
  return objectiveValue(m, metric);
}

/** The rungs (below the top) that an evaluation at `iteration` decides, given `judged` already decided. */
export function rungsReached(budgets: readonly number[], judged: number, iteration: number): number[] {
  const out: number[] = [];
  for (let k = judged; k < budgets.length - 1 && (budgets[k] as number) <= iteration; k++) out.push(k);
  return out;
}

/** The evaluations of a metrics artifact grouped by iteration, ascending (to replay a cached run). */
export function evaluations(m: Metrics): Array<{ iteration: number; rows: MetricRow[] }> {
  const by = new Map<number, MetricRow[]>();
  for (const r of m.rows) by.set(r.iteration, [...(by.get(r.iteration) ?? []), r]);
  return [...by.entries()].sort((a, b) => a[0] - b[0]).map(([iteration, rows]) => ({ iteration, rows }));
}
