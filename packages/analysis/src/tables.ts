import type { Metrics, TableArtifact, TableColumn } from '@lth/artifacts';
import type { z } from 'zod';
import type { PathPoint, SplitInstability } from './path';

/** What a table says about the analysis it comes from (also its meta.info). */
export interface AnalysisContext {
  label: string;
  k: number;
  /** T, the iteration both copies trained to. */
  iterations: number;
  /** Fraction of prunable weights the mask keeps (1 without a mask; null if unknown). */
  remaining: number | null;
  seeds: [number, number];
  points: number;
  batchNorm: string;
}

type Column = z.output<typeof TableColumn>;
const num = (name: string): Column => ({ name, type: 'float64' });
const str = (name: string): Column => ({ name, type: 'utf8' });

export const PATH_COLUMNS: Column[] = [str('label'), num('k'), num('alpha'), str('split'), num('loss'), num('error')];
export const SUMMARY_COLUMNS: Column[] = [
  str('label'),
  num('k'),
  num('pm'),
  str('split'),
  num('instability'),
  num('lossBarrier'),
  num('errorA'),
  num('errorB'),
  num('maxError'),
  num('maxAlpha'),
  num('iterations'),
  num('finalTestAccuracyA'),
  num('finalTestAccuracyB'),
];

function info(ctx: AnalysisContext, splits: readonly SplitInstability[]): Record<string, unknown> {
  return { ...ctx, instability: Object.fromEntries(splits.map((s) => [s.split, s.instability])) };
}

/** The path: one row per (alpha, split), alpha ascending. */
export function pathTable(points: readonly PathPoint[], splits: readonly SplitInstability[], ctx: AnalysisContext): TableArtifact {
  return {
    meta: { title: `Linear path between two copies of ${ctx.label} trained from k = ${ctx.k}`, columns: PATH_COLUMNS, info: info(ctx, splits) },
    rows: points.map((p) => ({ label: ctx.label, k: ctx.k, alpha: p.alpha, split: p.split, loss: p.loss, error: p.error })),
  };
}

/** Final test accuracy of a training run (its last test evaluation, at T), or null. */
export function finalTestAccuracy(m: Metrics): number | null {
  let last: { iteration: number; accuracy: number } | undefined;
  for (const r of m.rows) if (r.split === 'test' && (!last || r.iteration >= last.iteration)) last = r;
  return last ? last.accuracy : null;
}

/** The instability per split, with the numbers it is made of and the copies' final test accuracy. */
export function summaryTable(splits: readonly SplitInstability[], ctx: AnalysisContext, a: Metrics, b: Metrics): TableArtifact {
  return {
    meta: { title: `Instability of ${ctx.label} at k = ${ctx.k}`, columns: SUMMARY_COLUMNS, info: info(ctx, splits) },
    rows: splits.map((s) => ({
      label: ctx.label,
      k: ctx.k,
      pm: ctx.remaining,
      split: s.split,
      instability: s.instability,
      lossBarrier: s.lossBarrier,
      errorA: s.errorA,
      errorB: s.errorB,
      maxError: s.maxError,
      maxAlpha: s.maxAlpha,
      iterations: ctx.iterations,
      finalTestAccuracyA: finalTestAccuracy(a),
      finalTestAccuracyB: finalTestAccuracy(b),
    })),
  };
}
