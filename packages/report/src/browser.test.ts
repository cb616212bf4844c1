import { existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { lotteryReport } from './index';
import { run, scenario } from './__tests__/fixtures';

/**
 * Opens the generated report in Debian's headless Chromium and checks what a reader sees:
 * no console errors, no network, every plot drew its marks. `.ci/run` installs chromium;
 * without it this suite is skipped with a message rather than failing on a missing binary.
 */
const CHROMIUM = process.env['LTH_CHROMIUM'] ?? '/usr/bin/chromium';
const OUT = resolve(__dirname, '..', 'test-output');
const have = existsSync(CHROMIUM);
if (!have) {
  console.warn(`browser test skipped: ${CHROMIUM} is missing (install with: apt-get install -y chromium)`);
}
const maybe = have ? describe : describe.skip;

maybe('report in headless Chromium', () => {
  it('renders every plot with its marks, without errors or network requests', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lth-report-browser-'));
    const { tickets, reinit, randomPrune } = scenario();
    // A one-shot pipeline as a compared variant, rounds 1..3 from the shared dense network.
    const compare = [0.8, 0.64, 0.512, 0.8, 0.64, 0.512].map((pm, i) =>
      run({ esIndex: 3 - (i % 3), base: 0.9 + 0.004 * (i % 3) + 0.01 * Math.floor(i / 3), remaining: pm }),
    );
    const report = await lotteryReport(
      { tickets: tickets.filter((_, i) => i % 4 !== 0), dense: [tickets[0]!, tickets[4]!], reinit, randomPrune, compare },
      {
        title: 'LeNet-300-100 on MNIST (test data)',
        seeds: 2,
        pipeline: 'lenet-mnist-lottery',
        params: { seed: 0, rounds: 3 },
        labels: { compare: ['one-shot'] },
      },
      { outDir: dir, runInfo: { startedAt: '2026-01-01T10:00:00Z', finishedAt: '2026-01-01T10:42:00Z', durationMs: 2520000, stagesRun: 21, cacheHits: 4 } },
    );
    const userDataDir = mkdtempSync(join(tmpdir(), 'lth-chromium-'));
    const context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1200, height: 900 },
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    try {
      const page = context.pages()[0] ?? (await context.newPage());
      const errors: string[] = [];
      const requests: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error') errors.push(m.text());
      });
      page.on('pageerror', (e) => errors.push(e.message));
      page.on('request', (r) => requests.push(r.url()));
      const url = pathToFileURL(join(dir, 'report.html')).href;
      await page.goto(url, { waitUntil: 'load' });

      const plots = await page.$$eval('figure.plot', (figs) =>
        figs.map((f) => {
          const svg = f.querySelector('svg');
          const box = svg?.getBoundingClientRect();
          const visible = (sel: string) =>
            [...f.querySelectorAll(sel)].filter((e) => {
              const b = (e as unknown as { getBBox(): { width: number; height: number } }).getBBox();
              return b.width > 0 || b.height > 0;
            }).length;
          return {
            name: f.getAttribute('data-plot'),
            width: box?.width ?? 0,
            height: box?.height ?? 0,
            symbols: visible('g.mark-symbol.role-mark path'),
            lines: visible('g.mark-line.role-mark path'),
            rules: visible('g.mark-rule.role-mark line'),
          };
        }),
      );
      expect(plots.map((p) => p.name)).toEqual(report.plots.map((p) => p.name));
      plots.forEach((p, i) => {
        const spec = report.plots[i]!;
        expect(p.width).toBeGreaterThan(200);
        expect(p.height).toBeGreaterThan(150);
        expect({ name: p.name, symbols: p.symbols, lines: p.lines }).toEqual({ name: spec.name, symbols: spec.points, lines: spec.lines });
      });
      // 4 variants x 4 rounds; a point per (variant, round) and error bars for the 2-seed rows.
      expect(plots[0]!.symbols).toBe(16);
      expect(plots[0]!.rules).toBeGreaterThan(0);
      expect(plots[3]!.symbols).toBe(32);
      expect(await page.$$eval('#summary tbody tr', (r) => r.length)).toBe(report.table.rows.length);

      expect(errors).toEqual([]);
      expect(requests.filter((u) => u !== url)).toEqual([]);
      mkdirSync(OUT, { recursive: true });
      await page.screenshot({ path: join(OUT, 'report.png'), fullPage: true });
      expect(existsSync(join(OUT, 'report.png'))).toBe(true);
    } finally {
      await context.close();
    }
  });
});
