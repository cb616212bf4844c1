import type { TableArtifact, TableCell } from '@lth/artifacts';
import { accuracyAt, runStats } from './analyze';
import type { RunPoint, Variant } from './runs';

/** One (variant, round), aggregated over its seeds. */
export interface SummaryRow {
  variant: string;
  round: number;
  /** Fraction of prunable weights remaining (mean over seeds; seeds share the mask sparsity). */
  pm: number;
  seeds: number;
  earlyStopIteration: number | null;
  earlyStopIterationMin: number | null;
  earlyStopIterationMax: number | null;
  /** Test accuracy at the early-stopping iteration. */
  testAccuracy: number | null;
  testAccuracyMin: number | null;
  testAccuracyMax: number | null;
  /** Sample standard deviation over seeds; null with a single seed. */
  testAccuracyStd: number | null;
  finalTestAccuracy: number | null;
  finalTrainAccuracy: number | null;
  /** Test accuracy at fixed iterations (config.at), aggregated over seeds; empty without it. */
  at: AtIteration[];
}

export interface AtIteration {
  /** The iteration asked for; each run uses its evaluation nearest to it. */
  iteration: number;
  mean: number | null;
  min: number | null;
  max: number | null;
  std: number | null;
}

/** The summary table's columns, in order: the Arrow table and the Markdown table use these. */
export const SUMMARY_COLUMNS: { name: keyof SummaryRow; type: 'float64' | 'utf8' }[] = [
  { name: 'variant', type: 'utf8' },
  { name: 'round', type: 'float64' },
  { name: 'pm', type: 'float64' },
  { name: 'seeds', type: 'float64' },
  { name: 'earlyStopIteration', type: 'float64' },
  { name: 'earlyStopIterationMin', type: 'float64' },
  { name: 'earlyStopIterationMax', type: 'float64' },
  { name: 'testAccuracy', type: 'float64' },
  { name: 'testAccuracyMin', type: 'float64' },
  { name: 'testAccuracyMax', type: 'float64' },
  { name: 'testAccuracyStd', type: 'float64' },
  { name: 'finalTestAccuracy', type: 'float64' },
  { name: 'finalTrainAccuracy', type: 'float64' },
];

const present = (xs: (number | null)[]) => xs.filter((x): x is number => x !== null);
const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null);
const min = (xs: number[]) => (xs.length ? Math.min(...xs) : null);
const max = (xs: number[]) => (xs.length ? Math.max(...xs) : null);
function std(xs: number[]): number | null {
  if (xs.length < 2) return null;
  const m = mean(xs) as number;
  return Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / (xs.length - 1));
}

/** Groups runs by (variant, round) in variant order, then by round, and aggregates the seeds. */
export function summarize(variants: readonly Variant[], runs: readonly RunPoint[], at: readonly number[] = []): SummaryRow[] {
  const out: SummaryRow[] = [];
  for (const v of variants) {
    const mine = runs.filter((r) => r.variant === v.label);
    const rounds = [...new Set(mine.map((r) => r.round))].sort((a, b) => a - b);
    for (const round of rounds) {
      const group = mine.filter((r) => r.round === round);
      const stats = group.map((r) => runStats(r.metrics));
      const es = present(stats.map((s) => s.earlyStop?.iteration ?? null));
      const acc = present(stats.map((s) => s.earlyStop?.testAccuracy ?? null));
      out.push({
        variant: v.label,
        round,
        pm: mean(group.map((r) => r.pm)) as number,
        seeds: group.length,
        earlyStopIteration: mean(es),
        earlyStopIterationMin: min(es),
        earlyStopIterationMax: max(es),
        testAccuracy: mean(acc),
        testAccuracyMin: min(acc),
        testAccuracyMax: max(acc),
        testAccuracyStd: std(acc),
        finalTestAccuracy: mean(present(stats.map((s) => s.finalTestAccuracy))),
        finalTrainAccuracy: mean(present(stats.map((s) => s.finalTrainAccuracy))),
        at: at.map((iteration) => {
          const xs = present(group.map((r) => accuracyAt(r.metrics, iteration)?.accuracy ?? null));
          return { iteration, mean: mean(xs), min: min(xs), max: max(xs), std: std(xs) };
        }),
      });
    }
  }
  return out;
}

/** The column names of accuracy at iteration N: mean, then Min, Max and Std over seeds. */
export function atColumns(iteration: number): [string, keyof Omit<AtIteration, 'iteration'>][] {
  const base = `testAccuracyAt${iteration}`;
  return [
    [base, 'mean'],
    [`${base}Min`, 'min'],
    [`${base}Max`, 'max'],
    [`${base}Std`, 'std'],
  ];
}

/** The summary as the `table` artifact the stage outputs (with config.at's columns last). */
export function summaryTable(rows: readonly SummaryRow[], title: string, at: readonly number[] = []): TableArtifact {
  const extra = at.flatMap((it) => atColumns(it).map(([name]) => ({ name, type: 'float64' as const })));
  return {
    meta: { title, columns: [...SUMMARY_COLUMNS.map((c) => ({ name: c.name, type: c.type })), ...extra] },
    rows: rows.map((r) => ({
      ...Object.fromEntries(SUMMARY_COLUMNS.map((c) => [c.name, r[c.name] as TableCell])),
      ...Object.fromEntries(r.at.flatMap((a) => atColumns(a.iteration).map(([name, field]) => [name, a[field]]))),
    })),
  };
}
