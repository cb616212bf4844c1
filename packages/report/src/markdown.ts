import type { TableArtifact, TableCell } from '@lth/artifacts';
import type { RunInfo } from './runinfo';
import { runInfoLines } from './runinfo';

/**
 * Text from an input (title, labels, parameters, warnings) as inert Markdown: `<`, `>` and `&`
 * become entities, so a renderer that passes HTML through shows `<script>` instead of running
 * it; the Markdown punctuation that could start a link, an image, code, emphasis or a table
 * cell is backslash-escaped; line breaks become spaces. Renders as the original text.
 */
export function markdownText(text: string): string {
  return text
    .replace(/\r?\n|\r/g, ' ')
    .replace(/[\\`*_[\]|~]/g, (c) => `\\${c}`)
    .replace(/[<>&]/g, (c) => (c === '<' ? '&lt;' : c === '>' ? '&gt;' : '&amp;'));
}

/** The text markdownText escaped (line breaks aside): backslash escapes and the three entities undone. */
export function unescapeMarkdownText(md: string): string {
  return md.replace(
    /\\(.)|&(lt|gt|amp);/g,
    (_, ch: string | undefined, entity: string | undefined) => ch ?? (entity === 'lt' ? '<' : entity === 'gt' ? '>' : '&'),
  );
}

/**
 * A table cell as Markdown shows it. Numbers keep 6 significant digits, so each cell reads
 * back to the Arrow value within 5e-6 relative (integers exactly); null is an em dash; text is
 * escaped by markdownText.
 */
export function formatCell(v: TableCell): string {
  if (v === null) return '—';
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(6)));
  // The text '—' itself, as an entity, so that it does not read back as null.
  return v === '—' ? EM_DASH : markdownText(v);
}

const EM_DASH = '&#x2014;';

/** A cell's text from parseMarkdownTable as the value it shows, for a column of the given type. */
export function parseCell(cell: string, type: 'float64' | 'utf8'): TableCell {
  if (cell === '—') return null;
  if (type === 'float64') return Number(cell);
  return cell === EM_DASH ? '—' : unescapeMarkdownText(cell);
}

/** A GitHub-flavoured Markdown table with exactly the Arrow table's columns and rows. */
export function markdownTable(t: TableArtifact): string {
  const names = t.meta.columns.map((c) => c.name);
  const align = t.meta.columns.map((c) => (c.type === 'float64' ? '---:' : ':---'));
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [line(names.map(markdownText)), line(align), ...t.rows.map((r) => line(names.map((n) => formatCell(r[n] ?? null))))].join('\n');
}

/** One table line's cells: split at each `|` that is not backslash-escaped, one space trimmed each side. */
function splitRow(line: string): string[] {
  const cells: string[] = [];
  let cell = '';
  for (let i = 1; i < line.length; i++) {
    const ch = line[i]!;
    if (ch === '\\' && i + 1 < line.length) {
      cell += ch + line[++i];
    } else if (ch === '|') {
      cells.push(cell.slice(1, -1));
      cell = '';
    } else cell += ch;
  }
  return cells;
}

/** Reads a Markdown table written by markdownTable back into header and cell strings (as written). */
export function parseMarkdownTable(md: string): { header: string[]; rows: string[][] } {
  const lines = md.split('\n').filter((l) => l.startsWith('| '));
  const [head, , ...body] = lines;
  if (!head) throw new Error('parseMarkdownTable: no table found');
  return { header: splitRow(head).map(unescapeMarkdownText), rows: body.map(splitRow) };
}

export interface MarkdownPlot {
  file: string;
  title: string;
}

/**
 * report.md: what was run, the summary table, and the plots as relative SVG links. Every piece
 * of text that comes from an input goes through markdownText, so it is shown, never run.
 */
export function renderMarkdown(
  title: string,
  table: TableArtifact,
  plots: readonly MarkdownPlot[],
  info: RunInfo = {},
  warnings: readonly string[] = [],
): string {
  const parts = [`# ${markdownText(title)}`, ''];
  const lines = runInfoLines(info);
  if (lines.length) parts.push('## What was run', '', ...lines.map(([k, v]) => `- **${markdownText(k)}**: ${markdownText(v)}`), '');
  parts.push(
    '## Summary',
    '',
    'One row per (variant, round). `pm` is the fraction of prunable weights remaining; accuracies are fractions; ' +
      'early-stop values are at the iteration of minimum validation loss; min/max/std are across seeds.',
    '',
    markdownTable(table),
    '',
  );
  if (warnings.length) parts.push('## Warnings', '', ...warnings.map((w) => `- ${markdownText(w)}`), '');
  if (plots.length) {
    // The file names are the report's own (`accuracy-vs-pm.svg`); encodeURI keeps even an odd one a plain link.
    parts.push('## Plots', '', ...plots.flatMap((p) => [`### ${markdownText(p.title)}`, '', `![${markdownText(p.title)}](${encodeURI(p.file)})`, '']));
  }
  return parts.join('\n');
}
