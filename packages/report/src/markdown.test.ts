import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readTable, writeTable, type TableArtifact } from '@lth/artifacts';
import { lotteryReport, markdownTable, markdownText, parseCell, parseMarkdownTable, unescapeMarkdownText } from './index';
import { scenario } from './__tests__/fixtures';

// Issue #14, defect 9a: report.md embedded raw HTML from the title, the labels and the params,
// which a Markdown renderer that passes HTML through would run.

const SCRIPT = '<script>alert(1)</script>';
const IMG = '<img src=x onerror=alert(1)>';
const PARAM = 'a | b `code` ' + IMG;

/** Markdown text outside code that a renderer passing HTML would turn into an element. */
function rawTags(md: string): string[] {
  return md.match(/<\/?[a-z][^>]*>/gi) ?? [];
}

describe('report.md is inert whatever the title, labels and params say', () => {
  let md: string;
  let dir: string;
  let table: TableArtifact;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'lth-report-md-'));
    jest.spyOn(console, 'warn').mockImplementation(() => {});
    const r = await lotteryReport(
      scenario(),
      {
        title: SCRIPT,
        seeds: 2,
        pipeline: `evil ${IMG}`,
        params: { [`k${IMG}`]: PARAM, note: '[link](javascript:alert(1))' },
        labels: { tickets: `ticket ${IMG}`, reinit: 're|init `x` *y* _z_ \\ & <b>' },
      },
      { outDir: dir },
    );
    md = readFileSync(join(dir, 'report.md'), 'utf8');
    table = r.table;
  });

  it('has no raw HTML tags and no Markdown link from the inputs', () => {
    expect(rawTags(md)).toEqual([]);
    expect(md).toContain('# &lt;script&gt;alert(1)&lt;/script&gt;\n');
    expect(md).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(md).not.toMatch(/(?<!\\)\]\(javascript:/);
    expect(md).toContain('\\[link\\](javascript:alert(1))');
    // The parameter value's pipe and backticks are escaped: one line, no code span, no extra cell.
    expect(md).toContain('a \\| b \\`code\\`');
  });

  it('escaped text reads back as the original', () => {
    for (const s of [SCRIPT, PARAM, 're|init `x` *y* _z_ \\ & <b>', '&lt; stays literal', 'trailing backslash \\']) {
      expect(unescapeMarkdownText(markdownText(s))).toBe(s);
    }
  });

  it("the report's own parse-back of the md table equals the Arrow table", async () => {
    const file = join(dir, 'summary.arrow');
    await writeTable(file, table);
    const t = readTable(file);
    expect(t.rows.some((r) => Object.values(r).some((v) => typeof v === 'string' && v.includes(IMG)))).toBe(true);
    const parsed = parseMarkdownTable(md);
    expect(parsed.header).toEqual(t.meta.columns.map((c) => c.name));
    expect(parsed.rows).toHaveLength(t.rows.length);
    parsed.rows.forEach((cells, i) => {
      expect(cells).toHaveLength(t.meta.columns.length);
      t.meta.columns.forEach((c, j) => {
        const want = t.rows[i]![c.name] ?? null;
        const got = parseCell(cells[j]!, c.type);
        if (typeof want === 'number' && !Number.isInteger(want)) expect(Math.abs((got as number) - want)).toBeLessThanOrEqual(5e-6 * Math.abs(want));
        else expect(got).toEqual(want);
      });
    });
  });

  it('round-trips awkward strings through a table: pipes, backslashes, entities, an em dash, empty', () => {
    const values = ['a|b', 'ends with \\', '\\|', '&amp;', '—', '', '<i>x</i>', '`', '**'];
    const t: TableArtifact = {
      meta: {
        title: 't',
        columns: [
          { name: 's', type: 'utf8' },
          { name: 'x', type: 'float64' },
        ],
      },
      rows: values.map((s, i) => ({ s, x: i + 0.5 })),
    };
    const parsed = parseMarkdownTable(markdownTable(t));
    expect(parsed.rows.map((r) => parseCell(r[0]!, 'utf8'))).toEqual(values);
    expect(parsed.rows.map((r) => parseCell(r[1]!, 'float64'))).toEqual(values.map((_, i) => i + 0.5));
    expect(rawTags(markdownTable(t))).toEqual([]);
  });
});
