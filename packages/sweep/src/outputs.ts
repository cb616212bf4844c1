import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeTable, type TableArtifact, type TableCell } from '@lth/artifacts';
import { sweepHtml } from './html';
import type { StudyFile, TrialRecord } from './state';

/** Column name of the objective at one rung's budget. */
export const valueColumn = (budget: number) => `value@${budget}`;

/**
 * The trials as a `table` artifact: trial, one column per param (float64 when every value is a
 * number), budget reached, state, the objective at the budget reached, one column per rung,
 * and the error of a failed trial.
 */
export function trialsTable(s: StudyFile): TableArtifact {
  const names = Object.keys(s.space.params);
  const numeric = new Set(names.filter((n) => s.trials.every((t) => typeof t.params[n] === 'number')));
  const cell = (v: unknown): TableCell => (v === undefined || v === null ? null : typeof v === 'number' ? v : String(v));
  const rows = s.trials.map((t) => {
    const last = t.rungs[t.rungs.length - 1];
    const row: Record<string, TableCell> = { trial: t.trial };
    for (const n of names) row[n] = numeric.has(n) ? cell(t.params[n]) : t.params[n] === undefined ? null : String(t.params[n]);
    row['budget'] = last?.budget ?? null;
    row['state'] = t.state;
    row['value'] = last?.value ?? null;
    for (const b of s.budgets) row[valueColumn(b)] = t.rungs.find((r) => r.budget === b)?.value ?? null;
    row['error'] = t.rungs.find((r) => r.error)?.error ?? null;
    return row;
  });
  return {
    meta: {
      title: `sweep ${s.name}: ${s.space.objective.stage} ${s.space.objective.metric} (${s.space.objective.direction})`,
      columns: [
        { name: 'trial', type: 'float64' },
        ...names.map((n) => ({ name: n, type: numeric.has(n) ? ('float64' as const) : ('utf8' as const) })),
        { name: 'budget', type: 'float64' },
        { name: 'state', type: 'utf8' },
        { name: 'value', type: 'float64' },
        ...s.budgets.map((b) => ({ name: valueColumn(b), type: 'float64' as const })),
        { name: 'error', type: 'utf8' },
      ],
      info: { budgets: s.budgets, pruner: s.space.pruner, objective: s.space.objective, seed: s.seed, compute: s.compute, best: s.best ?? null },
    },
    rows,
  };
}

/** Writes trials.arrow and sweep.html next to study.json (already written by the study). */
export async function writeStudyOutputs(dir: string, s: StudyFile): Promise<{ study: string; trials: string; html: string }> {
  const files = { study: join(dir, 'study.json'), trials: join(dir, 'trials.arrow'), html: join(dir, 'sweep.html') };
  await writeTable(files.trials, trialsTable(s));
  writeFileSync(files.html, await sweepHtml(s));
  return files;
}

/** Plain-text table of the trials (the CLI's summary), best first within the highest budget reached. */
export function trialsText(s: StudyFile): string[] {
  const names = Object.keys(s.space.params);
  const fmt = (v: number | null | undefined) => (v === null || v === undefined ? '-' : Number(v.toPrecision(4)).toString());
  const head = ['trial', ...names, ...s.budgets.map((b) => `@${b}`), 'state'];
  const order = [...s.trials].sort((a, b) => compareTrials(a, b, s.space.objective.direction));
  const rows = order.map((t) => [
    String(t.trial),
    ...names.map((n) => (typeof t.params[n] === 'number' ? fmt(t.params[n] as number) : String(t.params[n]))),
    ...s.budgets.map((b) => fmt(t.rungs.find((r) => r.budget === b)?.value)),
    t.state,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  return [head, ...rows].map((r) =>
    r
      .map((c, i) => c.padEnd(widths[i] as number))
      .join('  ')
      .trimEnd(),
  );
}

/** Highest rung reached with a value first, then the value there in the objective's direction, then trial number. */
function compareTrials(a: TrialRecord, b: TrialRecord, direction: 'maximize' | 'minimize'): number {
  const top = (t: TrialRecord) => [...t.rungs].reverse().find((r) => r.value !== null);
  const ra = top(a);
  const rb = top(b);
  if (!ra || !rb) return ra ? -1 : rb ? 1 : a.trial - b.trial;
  const sign = direction === 'maximize' ? -1 : 1;
  return rb.rung - ra.rung || sign * ((ra.value as number) - (rb.value as number)) || a.trial - b.trial;
}
