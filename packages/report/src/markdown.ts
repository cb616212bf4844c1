import type { TableArtifact, TableCell } from '@lth/artifacts';
import type { RunInfo } from './runinfo';
import { runInfoLines } from './runinfo';

/**
 * A table cell as Markdown shows it. Numbers keep 6 significant digits, so each cell reads
 * back to the Arrow value within 5e-6 relative (integers exactly); null is an em dash.
 */
export function formatCell(v: TableCell): string {
  if (v === null) return '—';
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(6)));
  return v.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

/** A GitHub-flavoured Markdown table with exactly the Arrow table's columns and rows. */
export function markdownTable(t: TableArtifact): string {
  const names = t.meta.columns.map((c) => c.name);
  const align = t.meta.columns.map((c) => (c.type === 'float64' ? '---:' : ':---'));
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [line(names), line(align), ...t.rows.map((r) => line(names.map((n) => formatCell(r[n] ?? null))))].join('\n');
}

/** Reads a Markdown table written by markdownTable back into header and cell strings. */
export function parseMarkdownTable(md: string): { header: string[]; rows: string[][] } {
  const lines = md.split('\n').filter((l) => l.startsWith('| '));
  const split = (l: string) => l.slice(2, -2).split(/ (?<!\\)\| /);
  const [head, , ...body] = lines;
  if (!head) throw new Error('parseMarkdownTable: no table found');
  return { header: split(head), rows: body.map(split) };
}

export interface MarkdownPlot {
  file: string;
  title: string;
}

/** report.md: what was run, the summary table, and the plots as relative SVG links. */
export function renderMarkdown(
  title: string,
  table: TableArtifact,
  plots: readonly MarkdownPlot[],
  info: RunInfo = {},
  warnings: readonly string[] = [],
): string {
  const parts = [`# ${title}`, ''];
  const lines = runInfoLines(info);
  if (lines.length) parts.push('## What was run', '', ...lines.map(([k, v]) => `- **${k}**: ${v.replace(/\n/g, ' ')}`), '');
  parts.push(
    '## Summary',
    '',
    'One row per (variant, round). `pm` is the fraction of prunable weights remaining; accuracies are fractions; ' +
      'early-stop values are at the iteration of minimum validation loss; min/max/std are across seeds.',
    '',
    markdownTable(table),
    '',
  );
  if (warnings.length) parts.push('## Warnings', '', ...warnings.map((w) => `- ${w.replace(/\n/g, ' ')}`), '');
  if (plots.length) parts.push('## Plots', '', ...plots.flatMap((p) => [`### ${p.title}`, '', `![${p.title}](${p.file})`, '']));
  return parts.join('\n');
}
