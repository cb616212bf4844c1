import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TableArtifact, TableCell } from '@lth/artifacts';
import { escapeHtml, STYLE } from './html';
import {
  denseAccuracy,
  instabilityRows,
  InstabilityReportConfig,
  pathRows,
  ticketPoints,
  type InstabilityInputs,
  type InstabilityReportConfigInput,
  type InstabilityRow,
  type TicketPoint,
} from './instability-data';
import { accuracyVsRewindPlot, instabilityPlot, pathPlot } from './instability-plots';
import type { PlotSpec } from './plots';
import { renderSvg } from './render';
import { runInfoLines, type RunInfo } from './runinfo';

export const INSTABILITY_COLUMNS: { name: keyof InstabilityRow; type: 'float64' | 'utf8' }[] = [
  { name: 'label', type: 'utf8' },
  { name: 'k', type: 'float64' },
  { name: 'pm', type: 'float64' },
  { name: 'split', type: 'utf8' },
  { name: 'instability', type: 'float64' },
  { name: 'lossBarrier', type: 'float64' },
  { name: 'errorA', type: 'float64' },
  { name: 'errorB', type: 'float64' },
  { name: 'meanEndpointError', type: 'float64' },
  { name: 'maxError', type: 'float64' },
  { name: 'maxAlpha', type: 'float64' },
];

/**
 * Markdown-safe text: a backslash before every character that could start markup (emphasis,
 * links, images, HTML, headings, tables, code), and one line.
 */
export function escapeMarkdown(s: string): string {
  return s.replace(/\r?\n|\r/g, ' ').replace(/[\\`*_{}[\]()<>#+!|~&-]/g, '\\$&');
}

function mdCell(v: TableCell): string {
  if (v === null) return '—';
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(6)));
  return escapeMarkdown(v);
}

function htmlCell(column: string, v: TableCell): string {
  if (v === null) return '—';
  if (typeof v === 'string') return escapeHtml(v);
  if (column === 'k' || column === 'ticket k') return String(v);
  if (column === 'lossBarrier') return v.toFixed(4);
  if (column === 'maxAlpha') return v.toFixed(3);
  return `${(v * 100).toFixed(2)}%`;
}

function htmlTable(id: string, t: TableArtifact): string {
  const cols = t.meta.columns.map((c) => c.name);
  return `<div class="tablewrap"><table id="${escapeHtml(id)}">
<thead><tr>${cols.map((c) => `<th>${escapeHtml(c)}</th>`).join('')}</tr></thead>
<tbody>
${t.rows.map((r) => `<tr>${cols.map((c) => `<td>${htmlCell(c, r[c] ?? null)}</td>`).join('')}</tr>`).join('\n')}
</tbody>
</table></div>`;
}

function mdTable(t: TableArtifact): string {
  const names = t.meta.columns.map((c) => c.name);
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  const align = t.meta.columns.map((c) => (c.type === 'float64' ? '---:' : ':---'));
  return [line(names.map(escapeMarkdown)), line(align), ...t.rows.map((r) => line(names.map((n) => mdCell(r[n] ?? null))))].join('\n');
}

export interface RenderedInstabilityReport {
  table: TableArtifact;
  tickets: TableArtifact;
  plots: (PlotSpec & { svg: string })[];
  html: string;
  markdown: string;
}

function ticketTable(points: readonly TicketPoint[]): TableArtifact {
  return {
    meta: {
      title: 'IMP tickets by rewind iteration',
      columns: [
        { name: 'k', type: 'float64' },
        { name: 'pm', type: 'float64' },
        { name: 'accuracy', type: 'float64' },
      ],
    },
    rows: [...points].sort((a, b) => b.pm - a.pm || a.k - b.k).map((p) => ({ k: p.k, pm: p.pm, accuracy: p.accuracy })),
  };
}

/** The summary table, three plots (SVG), report.html and report.md, in memory. */
export async function renderInstabilityReport(
  inputs: InstabilityInputs,
  config: InstabilityReportConfigInput = {},
  runInfo: RunInfo = {},
): Promise<RenderedInstabilityReport> {
  const cfg = InstabilityReportConfig.parse(config);
  if (inputs.instability.length === 0) throw new Error("report/instability: no 'instability' tables given");
  const rows = instabilityRows(inputs.instability);
  if (!rows.some((r) => r.split === cfg.split)) {
    throw new Error(
      `report/instability: no analysis evaluated the '${cfg.split}' split (config.split); they have: ${[...new Set(rows.map((r) => r.split))].join(', ')}`,
    );
  }
  const labels = [...new Set(rows.map((r) => r.label))];
  const table: TableArtifact = {
    meta: { title: cfg.title, columns: INSTABILITY_COLUMNS, info: { split: cfg.split } },
    rows: rows.map((r) => Object.fromEntries(INSTABILITY_COLUMNS.map((c) => [c.name, r[c.name]])) as Record<string, TableCell>),
  };
  const points = ticketPoints(inputs.tickets ?? [], cfg.accuracy);
  const specs: PlotSpec[] = [];
  if (inputs.paths?.length) specs.push(pathPlot(pathRows(inputs.paths), cfg.split, labels));
  specs.push(instabilityPlot(rows, cfg.split, labels));
  if (points.length) specs.push(accuracyVsRewindPlot(points, denseAccuracy(inputs.dense ?? [], cfg.accuracy), cfg.accuracy));
  const plots: (PlotSpec & { svg: string })[] = [];
  for (const p of specs) plots.push({ ...p, svg: await renderSvg(p.spec) });
  const tickets = ticketTable(points);
  const info = runInfoLines({ ...(cfg.pipeline ? { pipeline: cfg.pipeline } : {}), ...(cfg.params ? { params: cfg.params } : {}), ...runInfo });
  const intro =
    'Instability analysis (Frankle, Dziugaite, Roy & Carbin, ICML 2020): two copies of a network at iteration k train to T with different data orders; ' +
    'instability = maximum error on the linear path between them minus the mean of the two ends\u2019 errors.';
  const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>${escapeHtml(cfg.title)}</title>
<style>${STYLE}</style>
</head>
<body>
<main>
<h1>${escapeHtml(cfg.title)}</h1>
<p class="sub">${escapeHtml(intro)}</p>
${info.length ? `<h2>What was run</h2>\n<dl class="info">\n${info.map(([k, v]) => `<dt>${escapeHtml(k)}</dt><dd>${escapeHtml(v)}</dd>`).join('\n')}\n</dl>` : ''}
<h2>Plots</h2>
<div class="plots">
${plots.map((p) => `<figure class="plot" id="plot-${escapeHtml(p.name)}" data-plot="${escapeHtml(p.name)}">\n${p.svg}\n<figcaption><strong>${escapeHtml(p.title)}.</strong> ${escapeHtml(p.caption)}</figcaption>\n</figure>`).join('\n')}
</div>
<h2>Instability</h2>
<p class="sub">One row per (network, k, split). Errors in percent; meanEndpointError = (errorA + errorB) / 2; maxAlpha = where the path's error is highest.</p>
${htmlTable('instability', table)}
${tickets.rows.length ? `<h2>IMP tickets by rewind iteration</h2>\n<p class="sub">Test accuracy (${cfg.accuracy === 'final' ? 'end of training' : 'early stop'}) of every IMP round, by the iteration k its training started from.</p>\n${htmlTable('tickets', tickets)}` : ''}
<footer>Generated by @lth/report. Plots: Vega-Lite rendered to SVG.</footer>
</main>
</body>
</html>
`;
  const markdown = [
    `# ${escapeMarkdown(cfg.title)}`,
    '',
    escapeMarkdown(intro),
    '',
    ...(info.length ? ['## What was run', '', ...info.map(([k, v]) => `- **${escapeMarkdown(k)}**: ${escapeMarkdown(v)}`), ''] : []),
    '## Instability',
    '',
    'One row per (network, k, split); errors and Pm are fractions.',
    '',
    mdTable(table),
    '',
    ...(tickets.rows.length ? ['## IMP tickets by rewind iteration', '', mdTable(tickets), ''] : []),
    '## Plots',
    '',
    ...plots.flatMap((p) => [`### ${escapeMarkdown(p.title)}`, '', `![${escapeMarkdown(p.title)}](${p.name}.svg)`, '']),
  ].join('\n');
  return { table, tickets, plots, html, markdown };
}

/** Renders and writes report.html, report.md and the plots into dir; returns the paths written. */
export async function instabilityReport(
  inputs: InstabilityInputs,
  config: InstabilityReportConfigInput = {},
  opts: { outDir?: string; runInfo?: RunInfo } = {},
): Promise<RenderedInstabilityReport & { files: string[] }> {
  const r = await renderInstabilityReport(inputs, config, opts.runInfo);
  const files: string[] = [];
  if (opts.outDir) {
    await mkdir(opts.outDir, { recursive: true });
    for (const [name, text] of [['report.html', r.html], ['report.md', r.markdown], ...r.plots.map((p) => [`${p.name}.svg`, p.svg])] as [string, string][]) {
      await writeFile(join(opts.outDir, name), text, 'utf8');
      files.push(join(opts.outDir, name));
    }
  }
  return { ...r, files };
}
