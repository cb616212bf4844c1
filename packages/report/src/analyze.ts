import type { EarlyStop, Metrics, MetricRow } from '@lth/artifacts';

/** What the report needs from one training run. */
export interface RunStats {
  earlyStop: EarlyStop | null;
  /** Test / train accuracy at the last evaluation of that split. */
  finalTestAccuracy: number | null;
  finalTrainAccuracy: number | null;
  lastIteration: number | null;
}

function rowsOf(m: Metrics, split: MetricRow['split']): MetricRow[] {
  return m.rows.filter((r) => r.split === split).sort((a, b) => a.iteration - b.iteration);
}

/**
 * The paper's early-stopping point: the iteration of minimum validation loss (the earliest one
 * on a tie), and the test accuracy there. The trainer records it in meta.earlyStop; it is
 * recomputed from the rows only when that is missing, so older artifacts still report.
 */
export function earlyStopOf(m: Metrics): EarlyStop | null {
  if (m.meta.earlyStop) return m.meta.earlyStop;
  const val = rowsOf(m, 'validation');
  let best: MetricRow | undefined;
  for (const r of val) if (!best || r.loss < best.loss) best = r;
  if (!best) return null;
  const test = rowsOf(m, 'test');
  // The test evaluation nearest the early-stop iteration: trainers evaluate every split at the
  // same iterations, so this is normally an exact match.
  let near: MetricRow | undefined;
  for (const r of test) if (!near || Math.abs(r.iteration - best.iteration) < Math.abs(near.iteration - best.iteration)) near = r;
  if (!near) return null;
  return {
    iteration: best.iteration,
    validationLoss: best.loss,
    validationAccuracy: best.accuracy,
    testAccuracy: near.accuracy,
  };
}

export function finalAccuracy(m: Metrics, split: MetricRow['split']): number | null {
  const rows = rowsOf(m, split);
  return rows.length ? (rows[rows.length - 1] as MetricRow).accuracy : null;
}

export function runStats(m: Metrics): RunStats {
  const last = m.rows.reduce<number | null>((a, r) => (a === null || r.iteration > a ? r.iteration : a), null);
  return {
    earlyStop: earlyStopOf(m),
    finalTestAccuracy: finalAccuracy(m, 'test'),
    finalTrainAccuracy: finalAccuracy(m, 'train'),
    lastIteration: last,
  };
}

/**
 * Test accuracy at the evaluation nearest `iteration` (the earlier one on a tie), with the
 * iteration actually used; null when the run has no test evaluation.
 */
export function accuracyAt(m: Metrics, iteration: number): { iteration: number; accuracy: number } | null {
  let near: MetricRow | undefined;
  for (const r of rowsOf(m, 'test')) if (!near || Math.abs(r.iteration - iteration) < Math.abs(near.iteration - iteration)) near = r;
  return near ? { iteration: near.iteration, accuracy: near.accuracy } : null;
}

/** Test accuracy per iteration, for the learning-curve plot. */
export function testCurve(m: Metrics): { iteration: number; accuracy: number }[] {
  return rowsOf(m, 'test').map((r) => ({ iteration: r.iteration, accuracy: r.accuracy }));
}
