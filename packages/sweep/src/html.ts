import { escapeHtml, renderSvg } from '@lth/report';
import type { StudyFile } from './state';

type Spec = Parameters<typeof renderSvg>[0];

/** Objective vs budget, one line per trial (log-scaled budget: rungs are powers of eta). */
export function budgetSpec(s: StudyFile): Spec {
  const values = s.trials.flatMap((t) =>
    t.rungs.filter((r) => r.value !== null).map((r) => ({ trial: `trial ${t.trial}`, budget: r.budget, value: r.value, state: t.state })),
  );
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: `${s.space.objective.stage} ${s.space.objective.metric} vs budget`,
    width: 480,
    height: 300,
    data: { values },
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'budget', type: 'quantitative', scale: { type: 'log' }, title: `budget (${s.space.pruner.budgetParam})` },
      y: { field: 'value', type: 'quantitative', scale: { zero: false }, title: s.space.objective.metric },
      color: { field: 'trial', type: 'nominal' },
      strokeDash: { field: 'state', type: 'nominal' },
    },
  } as Spec;
}

/** Best objective so far (any budget, and at the full budget) against the iterations trained so far, in completion order. */
export function bestSoFarSpec(s: StudyFile): Spec {
  const done = s.trials.flatMap((t) => t.rungs.map((r) => ({ ...r, trial: t.trial }))).sort((a, b) => a.seq - b.seq);
  // single-run: a rung's record adds only the iterations since the trial's previous one (`at`).
  const reached = new Map<number, number>();
  const better = (a: number, b: number | undefined) => b === undefined || (s.space.objective.direction === 'maximize' ? a > b : a < b);
  const top = s.budgets[s.budgets.length - 1];
  let spent = 0;
  let any: number | undefined;
  let full: number | undefined;
  const values: Array<{ spent: number; best: number; series: string }> = [];
  for (const r of done) {
    if (r.at === undefined) spent += r.budget;
    else {
      spent += r.at - (reached.get(r.trial) ?? 0);
      reached.set(r.trial, r.at);
    }
    if (r.value !== null && better(r.value, any)) any = r.value;
    if (r.value !== null && r.budget === top && better(r.value, full)) full = r.value;
    if (any !== undefined) values.push({ spent, best: any, series: 'any budget' });
    if (full !== undefined) values.push({ spent, best: full, series: 'full budget' });
  }
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: 'best so far',
    width: 480,
    height: 240,
    data: { values },
    mark: { type: 'line', interpolate: 'step-after', point: true },
    encoding: {
      x: { field: 'spent', type: 'quantitative', title: `${s.space.pruner.budgetParam} trained (cumulative)` },
      y: { field: 'best', type: 'quantitative', scale: { zero: false }, title: s.space.objective.metric },
      color: { field: 'series', type: 'nominal' },
    },
  } as Spec;
}

/**
 * The intermediate values: the objective's split and field at every evaluation of every
 * trial-rung, one line each (a promoted trial has one line per budget, each from iteration 0,
 * because each rung trains from the start).
 */
export function curvesSpec(s: StudyFile): Spec {
  const [split, rest] = s.space.objective.metric.split('.') as [string, string];
  const field = rest.split('@')[0] as string;
  // single-run: a trial's rung records hold prefixes of its one curve; the last is all of it.
  const runs = (t: StudyFile['trials'][number]) => (t.rungs.some((r) => r.at !== undefined) ? t.rungs.slice(-1) : t.rungs);
  const values = s.trials.flatMap((t) =>
    runs(t).flatMap((r) => (r.curve ?? []).map(([iteration, value]) => ({ trial: `trial ${t.trial}`, run: `${t.trial}@${r.budget}`, iteration, value }))),
  );
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: `${split} ${field} during training, every trial-rung`,
    width: 480,
    height: 300,
    data: { values },
    mark: { type: 'line', strokeWidth: 1.5 },
    encoding: {
      x: { field: 'iteration', type: 'quantitative' },
      y: { field: 'value', type: 'quantitative', scale: { zero: false }, title: `${split} ${field}` },
      color: { field: 'trial', type: 'nominal' },
      detail: { field: 'run', type: 'nominal' },
    },
  } as Spec;
}

/** A self-contained page: the plots as inline SVG, the trials table and the compute used. */
export async function sweepHtml(s: StudyFile): Promise<string> {
  const svgs = await Promise.all([budgetSpec(s), bestSoFarSpec(s), curvesSpec(s)].map((spec) => renderSvg(spec)));
  const names = Object.keys(s.space.params);
  const cell = (v: unknown) =>
    `<td>${escapeHtml(v === null || v === undefined ? '-' : typeof v === 'number' ? String(Number(v.toPrecision(5))) : String(v))}</td>`;
  const rows = s.trials
    .map(
      (t) =>
        `<tr>${cell(t.trial)}${names.map((n) => cell(t.params[n])).join('')}${s.budgets.map((b) => cell(t.rungs.find((r) => r.budget === b)?.value)).join('')}${cell(t.state)}</tr>`,
    )
    .join('\n');
  const c = s.compute;
  const singleRun = s.space.pruner.mode === 'single-run';
  const best = s.best ? `trial ${s.best.trial} (${escapeHtml(JSON.stringify(s.best.params))}): ${s.best.value} at budget ${s.best.budget}` : 'none';
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>sweep ${escapeHtml(s.name)}</title>
<style>body{font-family:sans-serif;margin:2em;max-width:60em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 8px;text-align:right}</style>
</head><body>
<h1>Sweep ${escapeHtml(s.name)}</h1>
<p>${escapeHtml(s.space.pruner.type.toUpperCase())} (eta ${s.space.pruner.eta}${singleRun ? ', single-run' : ''}), budgets ${s.budgets.join(' / ')} ${escapeHtml(s.space.pruner.budgetParam)}; ${s.trials.length} trials, ${escapeHtml(s.space.sampler)} sampler, seed ${s.seed}; status ${s.status}.</p>
<p>Objective: ${escapeHtml(s.space.objective.stage)} ${escapeHtml(s.space.objective.metric)} (${s.space.objective.direction}). Best: ${best}.</p>
<p>Compute: ${c.budgetUsed} ${escapeHtml(s.space.pruner.budgetParam)} ${singleRun ? 'trained over all trials (each trains once; a stopped trial up to the evaluation that stopped it)' : 'over all trial-rungs (each rung trains from the start)'} against ${c.budgetFull} for every trial at the full budget (${((100 * c.budgetUsed) / Math.max(1, c.budgetFull)).toFixed(1)}%); ${c.budgetComputed} actually computed (the rest were cache hits).</p>
<div>${svgs.join('\n')}</div>
<table><tr><th>trial</th>${names.map((n) => `<th>${escapeHtml(n)}</th>`).join('')}${s.budgets.map((b) => `<th>@${b}</th>`).join('')}<th>state</th></tr>
${rows}
</table>
</body></html>
`;
}
