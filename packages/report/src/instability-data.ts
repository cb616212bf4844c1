import type { Metrics, TableArtifact, TableCell } from '@lth/artifacts';
import { z } from 'zod';
import { earlyStopOf, finalAccuracy } from './analyze';

/**
 * Config of report/instability. Strict, like report/lottery's: a misspelt key is an error.
 */
export const InstabilityReportConfig = z.strictObject({
  title: z.string().min(1).default('Instability analysis'),
  pipeline: z.string().optional(),
  params: z.record(z.string(), z.unknown()).optional(),
  /** The split whose error the plots show (the analyses must have evaluated it). */
  split: z.enum(['train', 'validation', 'test']).default('test'),
  /** Ticket accuracy in the accuracy-vs-rewind plot: at the end of training (T) or at early stop. */
  accuracy: z.enum(['final', 'earlyStop']).default('final'),
});
export type InstabilityReportConfig = z.output<typeof InstabilityReportConfig>;
export type InstabilityReportConfigInput = z.input<typeof InstabilityReportConfig>;

export interface InstabilityInputs {
  /** analysis/instability `instability` tables (one row per split). */
  instability: TableArtifact[];
  /** analysis/instability `path` tables (optional: the path plot). */
  paths?: TableArtifact[] | undefined;
  /** IMP tickets trained from their rewind iteration (optional: the accuracy-vs-rewind plot). */
  tickets?: Metrics[] | undefined;
  /** The dense run(s), for the accuracy plot's reference line. */
  dense?: Metrics[] | undefined;
}

export interface InstabilityRow {
  label: string;
  k: number;
  pm: number | null;
  split: string;
  instability: number;
  lossBarrier: number | null;
  errorA: number;
  errorB: number;
  meanEndpointError: number;
  maxError: number;
  maxAlpha: number | null;
}

export interface PathRow {
  label: string;
  k: number;
  alpha: number;
  split: string;
  loss: number;
  error: number;
}

export interface TicketPoint {
  /** The rewind iteration: where the ticket's training started (metrics meta.startIteration). */
  k: number;
  pm: number;
  accuracy: number;
}

function need(t: TableArtifact, where: string, columns: string[]): void {
  const have = new Set(t.meta.columns.map((c) => c.name));
  const missing = columns.filter((c) => !have.has(c));
  if (missing.length)
    throw new Error(
      `report/instability: ${where} is not an analysis/instability table (missing column${missing.length > 1 ? 's' : ''} ${missing.map((m) => `'${m}'`).join(', ')})`,
    );
}

function num(v: TableCell | undefined, where: string, column: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v))
    throw new Error(`report/instability: ${where}: column '${column}' is ${JSON.stringify(v ?? null)}, not a number`);
  return v;
}
const opt = (v: TableCell | undefined): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/** The instability rows of every input table, checked, sorted by label (input order) then k. */
export function instabilityRows(tables: readonly TableArtifact[]): InstabilityRow[] {
  const rows: InstabilityRow[] = [];
  tables.forEach((t, i) => {
    const where = `instability[${i}]`;
    need(t, where, ['label', 'k', 'split', 'instability', 'errorA', 'errorB', 'maxError']);
    t.rows.forEach((r, j) => {
      const at = `${where} row ${j}`;
      const errorA = num(r['errorA'], at, 'errorA');
      const errorB = num(r['errorB'], at, 'errorB');
      rows.push({
        label: String(r['label'] ?? ''),
        k: num(r['k'], at, 'k'),
        pm: opt(r['pm']),
        split: String(r['split'] ?? ''),
        instability: num(r['instability'], at, 'instability'),
        lossBarrier: opt(r['lossBarrier']),
        errorA,
        errorB,
        meanEndpointError: (errorA + errorB) / 2,
        maxError: num(r['maxError'], at, 'maxError'),
        maxAlpha: opt(r['maxAlpha']),
      });
    });
  });
  const order = [...new Set(rows.map((r) => r.label))];
  return rows.sort((a, b) => order.indexOf(a.label) - order.indexOf(b.label) || a.k - b.k || a.split.localeCompare(b.split));
}

export function pathRows(tables: readonly TableArtifact[]): PathRow[] {
  return tables.flatMap((t, i) => {
    const where = `paths[${i}]`;
    need(t, where, ['label', 'k', 'alpha', 'split', 'loss', 'error']);
    return t.rows.map((r, j) => ({
      label: String(r['label'] ?? ''),
      k: num(r['k'], `${where} row ${j}`, 'k'),
      alpha: num(r['alpha'], `${where} row ${j}`, 'alpha'),
      split: String(r['split'] ?? ''),
      loss: num(r['loss'], `${where} row ${j}`, 'loss'),
      error: num(r['error'], `${where} row ${j}`, 'error'),
    }));
  });
}

/** Each ticket's rewind iteration, Pm and test accuracy (runs without a known Pm are left out). */
export function ticketPoints(tickets: readonly Metrics[], accuracy: InstabilityReportConfig['accuracy']): TicketPoint[] {
  return tickets.flatMap((m) => {
    const acc = accuracy === 'final' ? finalAccuracy(m, 'test') : (earlyStopOf(m)?.testAccuracy ?? null);
    const pm = m.meta.remaining;
    if (acc === null || pm === undefined) return [];
    return [{ k: m.meta.startIteration ?? 0, pm, accuracy: acc }];
  });
}

/** Mean test accuracy of the dense run(s), as the reference line; null without any. */
export function denseAccuracy(dense: readonly Metrics[], accuracy: InstabilityReportConfig['accuracy']): number | null {
  const xs = dense
    .map((m) => (accuracy === 'final' ? finalAccuracy(m, 'test') : (earlyStopOf(m)?.testAccuracy ?? null)))
    .filter((x): x is number => x !== null);
  return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null;
}
