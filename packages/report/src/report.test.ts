import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { plainContext, readTable, writeTable } from '@lth/artifacts';
import { lotteryReport, markdownText, parseMarkdownTable, formatCell, reportLottery, stages, ReportConfig } from './index';
import { scenario } from './__tests__/fixtures';

/** Counts the drawn marks of one kind in a Vega SVG: the children of its mark groups. */
function marks(svg: string, kind: 'symbol' | 'line' | 'rule'): number {
  const groups = svg.split(`<g class="mark-${kind} role-mark`).slice(1);
  const tag = kind === 'rule' ? '<line' : '<path';
  return groups.reduce((n, g) => n + (g.slice(0, g.indexOf('</g>')).split(tag).length - 1), 0);
}

describe('lotteryReport', () => {
  let report: Awaited<ReturnType<typeof lotteryReport>>;
  const dir = mkdtempSync(join(tmpdir(), 'lth-report-'));
  const warnings: unknown[] = [];
  beforeAll(async () => {
    // Vega and Vega-Lite report spec problems (conflicting scales, bad encodings) as warnings.
    const spy = jest.spyOn(console, 'warn').mockImplementation((...a) => void warnings.push(a));
    report = await lotteryReport(
      scenario(),
      { title: 'LeNet <test>', seeds: 2, pipeline: 'lenet-mnist', params: { rounds: 3 } },
      {
        outDir: dir,
        runInfo: { cacheHits: 5, stagesRun: 7, startedAt: '2026-01-01T00:00:00Z', durationMs: 65000 },
      },
    );
    spy.mockRestore();
  });

  it('compiles the plots without Vega warnings', () => {
    expect(warnings).toEqual([]);
  });

  it('writes the html, markdown and one svg per plot', () => {
    expect(readdirSync(dir).sort()).toEqual(
      ['accuracy-over-iterations.svg', 'accuracy-vs-pm.svg', 'early-stop-vs-pm.svg', 'report.html', 'report.md', 'train-test-gap.svg'].sort(),
    );
    expect(readFileSync(join(dir, 'report.md'), 'utf8')).toBe(report.markdown);
  });

  it('draws a point per summary row, error bars per multi-seed row, a line per variant', () => {
    const [acc, es, curves, gap] = report.plots;
    // 3 variants x 4 rounds, 2 seeds each.
    expect(marks(acc!.svg, 'symbol')).toBe(12);
    expect(marks(acc!.svg, 'line')).toBe(3);
    expect(marks(acc!.svg, 'rule')).toBeGreaterThanOrEqual(12);
    expect(marks(es!.svg, 'symbol')).toBe(12);
    // Default targets pick rounds 0 (Pm 1) and 3 (Pm 0.512, nearest to 0.513 .. 0.019) of each variant.
    expect(marks(curves!.svg, 'line')).toBe(6);
    expect(curves!.lines).toBe(6);
    // Final train and test per row.
    expect(marks(gap!.svg, 'symbol')).toBe(24);
    expect(marks(gap!.svg, 'line')).toBe(6);
  });

  it('uses a log, reversed Pm axis (denser on the left)', () => {
    const acc = report.plots[0]!;
    const enc = (acc.spec as { layer: { encoding: { x: { scale: { type: string; reverse: boolean } } } }[] }).layer[0]!.encoding.x;
    expect(enc.scale).toMatchObject({ type: 'log', reverse: true });
    // The 100% tick is left of the 51.2% tick.
    const tick = (label: string) => {
      const m = new RegExp(`transform="translate\\(([\\d.]+),\\d+\\)"[^>]*>${label.replace('.', '\\.')}</text>`).exec(acc.svg);
      return m ? Number(m[1]) : NaN;
    };
    expect(tick('100%')).toBeLessThan(tick('51.2%'));
  });

  it('writes Markdown that matches the Arrow table exactly', async () => {
    const file = join(dir, 'summary.arrow');
    await writeTable(file, report.table);
    const t = readTable(file);
    const md = parseMarkdownTable(readFileSync(join(dir, 'report.md'), 'utf8'));
    expect(md.header).toEqual(t.meta.columns.map((c) => c.name));
    expect(md.rows).toHaveLength(t.rows.length);
    md.rows.forEach((cells, i) => {
      const row = t.rows[i]!;
      cells.forEach((cell, j) => {
        const v = row[md.header[j]!] ?? null;
        expect(cell).toBe(formatCell(v));
        if (typeof v === 'number') expect(Math.abs(Number(cell) - v)).toBeLessThanOrEqual(5e-6 * Math.abs(v));
        if (v === null) expect(cell).toBe('—');
      });
    });
  });

  it('states what was run', () => {
    for (const text of [report.markdown, report.html]) {
      expect(text).toContain('lenet-mnist');
      expect(text).toContain('rounds = 3');
      expect(text).toContain('7 ran, 5 from the cache');
      expect(text).toContain('cpu, wasm');
      expect(text).toContain('1 min 5 s');
      expect(text).toContain('2026-01-01T00:00:00Z');
    }
    // 8 tickets + 6 reinit + 6 random pruning, 1 s each.
    expect(report.markdown).toContain('**Training runs**: 20');
    expect(report.markdown).toContain('**Training time (sum over runs)**: 20.0 s');
  });

  it('is self-contained HTML: no external src/href/url(), escaped title, four inline plots', () => {
    const h = report.html;
    expect(h).not.toMatch(/\b(src|href)\s*=\s*["']?\s*(https?:)?\/\//i);
    expect(h).not.toMatch(/url\(\s*["']?(https?:)?\/\//i);
    expect(h).not.toMatch(/<script|<link|@import/i);
    expect(h).toContain('<title>LeNet &lt;test&gt;</title>');
    expect(h.match(/<figure class="plot"/g)).toHaveLength(4);
    expect(h.match(/<svg /g)).toHaveLength(4);
  });
});

describe('report/lottery stage', () => {
  it('runs as a plain function and returns the summary table', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lth-report-stage-'));
    const cfg = ReportConfig.parse({ seeds: 2, title: 'stage' });
    const logs: string[] = [];
    const { tickets, reinit } = scenario();
    const out = await reportLottery.run(plainContext(dir, { log: (m) => logs.push(m) }), cfg, {
      tickets,
      reinit,
      dense: undefined,
      ticketSparsity: undefined,
      randomPrune: undefined,
      compare: undefined,
    });
    expect(out.summary.rows).toHaveLength(8);
    expect(out.summary.meta.title).toBe('stage');
    expect(readFileSync(join(dir, 'report.html'), 'utf8')).toContain('Report generated');
    expect(logs.join('\n')).toMatch(/8 summary rows/);
    expect(stages.map((s) => s.id)).toEqual(['report/lottery', 'report/instability']);
    expect(reportLottery.inputs.tickets).toMatchObject({ kind: 'metrics', many: true });
  });

  it('reports the dense runs alone when a pipeline has zero rounds (no tickets)', async () => {
    const { tickets } = scenario();
    const dense = [tickets[0]!, tickets[4]!];
    const r = await lotteryReport({ tickets: [], dense, reinit: [] }, { seeds: 2 });
    expect(r.summary).toHaveLength(1);
    expect(r.summary[0]).toMatchObject({ round: 0, pm: 1, seeds: 2 });
    expect(r.html).toContain('<svg ');
    await expect(lotteryReport({ tickets: [] }, {})).rejects.toThrow(/'tickets' is empty and no 'dense' runs are wired/);
  });

  it('shows input warnings in both documents', async () => {
    const r = await lotteryReport({ tickets: scenario().tickets }, {});
    expect(r.warnings).toHaveLength(1);
    expect(r.markdown).toContain(`## Warnings\n\n- ${markdownText(r.warnings[0]!)}`);
    expect(r.html).toContain('<ul class="warnings"><li>Pm rises from 0.512');
  });

  it('rejects a bad config with the field named', () => {
    expect(() => ReportConfig.parse({ seeds: 0 })).toThrow(/seeds/);
    expect(() => ReportConfig.parse({ seed: 2 })).toThrow(/Unrecognized key.*seed/);
    expect(() => ReportConfig.parse({ labels: { ticket: 'x' } })).toThrow(/Unrecognized key.*ticket/);
  });
});

describe('lotteryReport with config.at', () => {
  it('adds a plot per iteration, drawn first, with a point per row, and the columns in report.md', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lth-report-at-'));
    const r = await lotteryReport(scenario(), { title: 'at', seeds: 2, at: [200, 400] }, { outDir: dir });
    expect(r.plots.map((p) => p.name).slice(0, 2)).toEqual(['accuracy-at-200-vs-pm', 'accuracy-at-400-vs-pm']);
    expect(readdirSync(dir)).toEqual(expect.arrayContaining(['accuracy-at-200-vs-pm.svg', 'accuracy-at-400-vs-pm.svg', 'accuracy-vs-pm.svg']));
    expect(marks(r.plots[0]!.svg, 'symbol')).toBe(12);
    const md = parseMarkdownTable(r.markdown);
    expect(md.header).toEqual(expect.arrayContaining(['testAccuracyAt200', 'testAccuracyAt400Max']));
  });
});
