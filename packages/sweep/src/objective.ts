import type { Metrics, MetricRow } from '@lth/artifacts';

/**
 * The objective from a metrics artifact. `metric` is `<split>.<accuracy|loss>@<at>`:
 * earlyStop = at the trainer's early-stopping iteration (minimum validation loss), last = the
 * last evaluation, min / max = over all evaluations of that split. Null when the metrics do
 * not have it (e.g. a diverged run with NaN losses has no early-stopping point).
 */
export function objectiveValue(m: Metrics, metric: string): number | null {
  const match = /^(train|validation|test)\.(accuracy|loss)@(earlyStop|last|min|max)$/.exec(metric);
  if (!match) throw new Error(`objective metric '${metric}': expected <split>.<accuracy|loss>@<earlyStop|last|min|max>`);
  const [, split, field, at] = match as unknown as [string, MetricRow['split'], 'accuracy' | 'loss', string];
  const rows = m.rows.filter((r) => r.split === split && Number.isFinite(r[field]));
  let v: number | undefined;
  if (at === 'earlyStop') {
    const it = m.meta.earlyStop?.iteration;
    v = it === undefined ? undefined : rows.find((r) => r.iteration === it)?.[field];
  } else if (at === 'last') {
    v = rows.reduce<MetricRow | undefined>((a, r) => (!a || r.iteration >= a.iteration ? r : a), undefined)?.[field];
  } else if (rows.length) {
    const vals = rows.map((r) => r[field]);
    v = at === 'min' ? Math.min(...vals) : Math.max(...vals);
  }
  return v !== undefined && Number.isFinite(v) ? v : null;
}

/**
 * The objective's split and field at every evaluation, as [iteration, value] pairs: the
 * intermediate values of a trial-rung (the trainer evaluates every `evalEvery` iterations).
 */
export function objectiveCurve(m: Metrics, metric: string): Array<[number, number]> {
  const [split, rest] = metric.split('.') as [string, string];
  const field = rest.split('@')[0] as 'accuracy' | 'loss';
  return m.rows.filter((r) => r.split === split && Number.isFinite(r[field])).map((r) => [r.iteration, r[field]]);
}
