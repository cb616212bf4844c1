import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Metrics, TableArtifact } from '@lth/artifacts';
import { escapeMarkdown, instabilityReport } from './instability-report';

// Tables as analysis/instability writes them (see @lth/analysis tables.ts).
const EVIL = 'IMP <b>x</b> & "q" | *y*';
function summary(label: string, k: number, pm: number, errorA: number, errorB: number, maxError: number): TableArtifact {
  const cols = [
    'label',
    'k',
    'pm',
    'split',
    'instability',
    'lossBarrier',
    'errorA',
    'errorB',
    'maxError',
    'maxAlpha',
    'iterations',
    'finalTestAccuracyA',
    'finalTestAccuracyB',
  ];
  return {
    meta: { title: 't', columns: cols.map((name) => ({ name, type: name === 'label' || name === 'split' ? 'utf8' : 'float64' })) },
    rows: [
      {
        label,
        k,
        pm,
        split: 'test',
        instability: maxError - (errorA + errorB) / 2,
        lossBarrier: 0.1,
        errorA,
        errorB,
        maxError,
        maxAlpha: 0.5,
        iterations: 1000,
        finalTestAccuracyA: 1 - errorA,
        finalTestAccuracyB: 1 - errorB,
      },
    ],
  };
}
function path(label: string, k: number, errors: number[]): TableArtifact {
  const cols = ['label', 'k', 'alpha', 'split', 'loss', 'error'];
  return {
    meta: { title: 'p', columns: cols.map((name) => ({ name, type: name === 'label' || name === 'split' ? 'utf8' : 'float64' })) },
    rows: errors.map((error, i) => ({ label, k, alpha: i / (errors.length - 1), split: 'test', loss: error * 2, error })),
  };
}
function ticket(k: number, pm: number, finalAcc: number): Metrics {
  return {
    meta: { iterations: 1000, ...(k > 0 ? { startIteration: k } : {}), remaining: pm },
    rows: [
      { iteration: k, split: 'test', loss: 1, accuracy: 0.5 },
      { iteration: 1000, split: 'validation', loss: 0.2, accuracy: 0.95 },
      { iteration: 1000, split: 'test', loss: 0.2, accuracy: finalAcc },
    ],
  };
}

const ks = [0, 100, 500];
const inputs = {
  instability: ks.flatMap((k) => [summary('dense', k, 1, 0.02, 0.022, 0.02 + 0.1 / (k + 1)), summary(EVIL, k, 0.21, 0.03, 0.03, 0.05)]),
  paths: ks.flatMap((k) => [path('dense', k, [0.02, 0.05, 0.022]), path(EVIL, k, [0.03, 0.05, 0.03])]),
  tickets: ks.flatMap((k) => [ticket(k, 0.8, 0.97), ticket(k, 0.21, 0.96 + k / 1e5)]),
  dense: [ticket(0, 1, 0.975)],
};

describe('report/instability', () => {
  it('writes the table, three plots, report.html and report.md', async () => {
    const out = mkdtempSync(join(tmpdir(), 'lth-instab-report-'));
    const r = await instabilityReport(inputs, { title: 'T <script>', params: { k: [0, 100, 500] } }, { outDir: out });
    expect(r.files.map((f) => f.slice(out.length + 1)).sort()).toEqual([
      'accuracy-vs-rewind.svg',
      'error-along-path.svg',
      'instability-vs-k.svg',
      'report.html',
      'report.md',
    ]);
    // Rows grouped by network (input order), then k.
    expect(r.table.rows.map((row) => [row['label'], row['k']])).toEqual([...ks.map((k) => ['dense', k]), ...ks.map((k) => [EVIL, k])]);
    const dense0 = r.table.rows[0];
    expect(dense0?.['instability']).toBeCloseTo(0.1 - 0.001, 12);
    expect(dense0?.['meanEndpointError']).toBeCloseTo(0.021, 12);
    const byName = Object.fromEntries(r.plots.map((p) => [p.name, p]));
    expect(byName['error-along-path']?.lines).toBe(6); // 2 networks x 3 k
    expect(byName['instability-vs-k']).toMatchObject({ points: 6, lines: 2 });
    expect(byName['accuracy-vs-rewind']).toMatchObject({ points: 6, lines: 2 });
    expect(r.tickets.rows.map((row) => [row['pm'], row['k']])).toEqual([
      [0.8, 0],
      [0.8, 100],
      [0.8, 500],
      [0.21, 0],
      [0.21, 100],
      [0.21, 500],
    ]);
    expect(r.tickets.rows[5]?.['accuracy']).toBeCloseTo(0.965, 12);

    const html = readFileSync(join(out, 'report.html'), 'utf8');
    const md = readFileSync(join(out, 'report.md'), 'utf8');
    // Nothing a label or title holds becomes markup: not in the page, the SVGs or the Markdown.
    expect(html).not.toMatch(/<script|<b>/);
    expect(html).toContain('IMP &lt;b&gt;x&lt;/b&gt; &amp; &quot;q&quot;');
    for (const p of r.plots) expect(p.svg).not.toMatch(/<b>|<script/);
    // Every '<' in the Markdown is escaped (\<), so none opens an HTML tag.
    expect(md).not.toMatch(/(^|[^\\])</m);
    expect(md).toContain('# T \\<script\\>');
    expect(md).toContain(escapeMarkdown(EVIL));
    expect(md).toContain('![Instability vs k](instability-vs-k.svg)');
    expect(md.split('\n').filter((l) => l.startsWith('| ')).length).toBe(2 + 6 + 2 + 6);
  });

  it('escapes Markdown so that text stays text', () => {
    expect(escapeMarkdown('a|b *c* [d](e) <f> `g`\nh')).toBe('a\\|b \\*c\\* \\[d\\]\\(e\\) \\<f\\> \\`g\\` h');
  });

  it('says what is wrong with its inputs', async () => {
    await expect(instabilityReport({ instability: [] })).rejects.toThrow("no 'instability' tables given");
    const bad: TableArtifact = { meta: { title: 'x', columns: [{ name: 'label', type: 'utf8' }] }, rows: [] };
    await expect(instabilityReport({ instability: [inputs.instability[0]!, bad] })).rejects.toThrow(
      "instability[1] is not an analysis/instability table (missing columns 'k', 'split', 'instability', 'errorA', 'errorB', 'maxError')",
    );
    await expect(instabilityReport({ instability: inputs.instability }, { split: 'train' })).rejects.toThrow(
      "no analysis evaluated the 'train' split (config.split); they have: test",
    );
  });
});
