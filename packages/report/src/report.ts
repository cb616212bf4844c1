import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TableArtifact } from '@lth/artifacts';
import { ReportConfig, type ReportConfigInput } from './config';
import { renderHtml } from './html';
import { renderMarkdown } from './markdown';
import { lotteryPlots, type PlotSpec } from './plots';
import { renderSvg } from './render';
import type { RunInfo } from './runinfo';
import { runInfoFromRuns } from './runinfo';
import { collectRuns, type LotteryInputs, type RunPoint, type Variant } from './runs';
import { summarize, summaryTable, type SummaryRow } from './summary';

/** Everything a report is made of, once the runs are placed (see collectRuns). */
export interface ReportData {
  title: string;
  variants: Variant[];
  runs: RunPoint[];
  curves?: number[];
  errorBars?: ReportConfig['errorBars'];
  /** Iterations to report test accuracy at (config.at). */
  at?: number[];
  /** Warnings about the inputs (see collectRuns), shown under "Notes". */
  warnings?: string[];
}

export interface RenderedPlot extends PlotSpec {
  svg: string;
}

export interface RenderedReport {
  summary: SummaryRow[];
  table: TableArtifact;
  plots: RenderedPlot[];
  markdown: string;
  html: string;
  warnings: string[];
}

/** Renders the summary table, the four plots (SVG), report.md and report.html, in memory. */
export async function renderReport(data: ReportData, runInfo: RunInfo = {}): Promise<RenderedReport> {
  const defaults = ReportConfig.parse({});
  const summary = summarize(data.variants, data.runs, data.at ?? []);
  const table = summaryTable(summary, data.title, data.at ?? []);
  const specs = lotteryPlots(summary, data.runs, data.variants, {
    curves: data.curves ?? defaults.curves,
    errorBars: data.errorBars ?? defaults.errorBars,
    at: data.at ?? [],
  });
  const plots: RenderedPlot[] = [];
  // One at a time: rendering is CPU-bound, so parallel promises would gain nothing.
  for (const p of specs) plots.push({ ...p, svg: await renderSvg(p.spec) });
  const warnings = data.warnings ?? [];
  const markdown = renderMarkdown(
    data.title,
    table,
    plots.map((p) => ({ file: `${p.name}.svg`, title: p.title })),
    runInfo,
    warnings,
  );
  const html = renderHtml(data.title, table, plots, runInfo, warnings);
  return { summary, table, plots, markdown, html, warnings };
}

/** Writes report.html, report.md and one .svg per plot into dir; returns the paths written. */
export async function writeReport(dir: string, r: RenderedReport): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const files: [string, string][] = [['report.html', r.html], ['report.md', r.markdown], ...r.plots.map((p): [string, string] => [`${p.name}.svg`, p.svg])];
  for (const [name, text] of files) await writeFile(join(dir, name), text, 'utf8');
  return files.map(([name]) => join(dir, name));
}

/**
 * The report as a plain function, without the pipeline engine: places the runs, renders and
 * (when outDir is given) writes the files. runInfo adds what only the caller knows (run
 * record: dates, durations, cache hits) to what the metrics meta tells.
 */
export async function lotteryReport(
  inputs: LotteryInputs,
  config: ReportConfigInput = {},
  opts: { outDir?: string; runInfo?: RunInfo } = {},
): Promise<RenderedReport & { files: string[] }> {
  const cfg = ReportConfig.parse(config);
  const { variants, runs, warnings } = collectRuns(inputs, cfg);
  const info: RunInfo = {
    ...(cfg.pipeline ? { pipeline: cfg.pipeline } : {}),
    ...(cfg.params ? { params: cfg.params } : {}),
    ...runInfoFromRuns(runs),
    ...opts.runInfo,
  };
  const report = await renderReport(
    { title: cfg.title, variants, runs, curves: cfg.curves, errorBars: cfg.errorBars, ...(cfg.at ? { at: cfg.at } : {}), warnings },
    info,
  );
  const files = opts.outDir ? await writeReport(opts.outDir, report) : [];
  return { ...report, files };
}
