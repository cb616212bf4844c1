import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { lth, tempDir, testEnv, writeFile } from './__tests__/harness';
import { EXIT } from './common';

// Issue #16, CLI conventions: --version, internal errors (exit 3, no stack trace unless
// LTH_DEBUG=1), --json on graph / report / cache gc, cache gc --dry-run, aligned datasets.

const TEXT = `name: conv
params: { b: 10 }
stages:
  x: { uses: test/work, with: { value: 1, tag: x } }
  y: { uses: test/work, with: { value: "\${params.b}", tag: y } }
  xy: { uses: test/work, inputs: { a: x, b: y }, with: { tag: xy } }
  all: { uses: test/collect, inputs: { items: [xy, x] } }
`;

function setup() {
  const dir = tempDir();
  const file = writeFile(dir, 'conv.yaml', TEXT);
  const cache = join(dir, 'cache');
  const env = testEnv(join(dir, 'calls.log'));
  const run = (...args: string[]) => lth(['run', file, '--cache-dir', cache, '--in-process', ...args], env);
  return { dir, file, cache, env, run };
}

describe('lth CLI conventions', () => {
  it('--version prints the version in packages/cli/package.json', async () => {
    const { version } = JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8')) as { version: string };
    const r = await lth(['--version'], {});
    expect(r.code).toBe(0);
    expect(r.out.trim()).toBe(version);
    expect(version).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('an internal error exits 3 with one line and no stack trace; LTH_DEBUG=1 shows the stack', async () => {
    // A manifest directory that is a file is an environment problem lth does not classify.
    const dir = tempDir();
    const notDir = writeFile(dir, 'not-a-dir', 'x');
    const r = await lth(['datasets'], { LTH_DATASETS_DIR: notDir, LTH_DEBUG: '0' });
    expect(r.code).toBe(EXIT.internal);
    expect(r.code).toBe(3);
    expect(r.err).toMatch(/^lth: internal error: .*ENOTDIR.*\(LTH_DEBUG=1 shows the stack trace\)\n$/);
    expect(r.err).not.toMatch(/\n\s+at /);
    const debug = await lth(['datasets'], { LTH_DATASETS_DIR: notDir, LTH_DEBUG: '1' });
    expect(debug.code).toBe(3);
    // With LTH_DEBUG=1 the whole err.stack is printed (its frames, where the error has any).
    expect(debug.err).toMatch(/^lth: internal error: Error: ENOTDIR/);
    expect(debug.err).not.toContain('shows the stack trace');
  });

  it('graph --json lists each stage with where its inputs come from', async () => {
    const { file, env } = setup();
    const r = await lth(['graph', file, '--json'], env);
    expect(r.code).toBe(0);
    const g = JSON.parse(r.out);
    expect(g.name).toBe('conv');
    expect(g.stages.map((s: { id: string }) => s.id)).toEqual(['x', 'y', 'xy', 'all']);
    expect(g.stages[2]).toEqual({ id: 'xy', uses: 'test/work', inputs: { a: [{ stage: 'x', port: 'table' }], b: [{ stage: 'y', port: 'table' }] } });
    expect(g.stages[3].inputs.items.map((b: { stage: string }) => b.stage)).toEqual(['xy', 'x']);
  });

  it('report --json names the run, its status, record and report; exit 1 and report null without one', async () => {
    const { run, cache, env } = setup();
    expect((await run()).code).toBe(0);
    const r = await lth(['report', '--cache-dir', cache, '--json'], env);
    expect(r.code).toBe(0);
    const rep = JSON.parse(r.out);
    expect(rep).toMatchObject({ name: expect.stringMatching(/^conv/), status: 'ok' });
    expect(existsSync(rep.recordFile)).toBe(true);
    expect(readFileSync(join(rep.report, 'report.md'), 'utf8')).toBe('# 2 items\n');
    // A record without a report: JSON still, report null, exit 1.
    const record = JSON.parse(readFileSync(rep.recordFile, 'utf8'));
    delete record.report;
    writeFileSync(rep.recordFile, JSON.stringify(record));
    const none = await lth(['report', '--cache-dir', cache, '--json'], env);
    expect(none.code).toBe(1);
    expect(JSON.parse(none.out).report).toBeNull();
  });

  it('cache gc --dry-run says what it would remove and removes nothing; --json gives the keys', async () => {
    const { run, cache, env } = setup();
    await run();
    await run('--set', 'params.b=11');
    const entries = () => readdirSync(join(cache, 'entries')).sort();
    const runs = () =>
      readdirSync(join(cache, 'runs'))
        .filter((n) => n.endsWith('.json'))
        .sort();
    const before = { entries: entries(), runs: runs() };
    expect(before.entries).toHaveLength(7);
    const dry = await lth(['cache', 'gc', '--cache-dir', cache, '--keep-runs', '1', '--grace', '0', '--dry-run'], env);
    expect(dry.code).toBe(0);
    expect(dry.out).toContain('dry run: would keep 4 entries, remove 3');
    expect(dry.out).toContain('nothing was removed');
    expect(dry.out.match(/^would remove [0-9a-f]{12}$/gm)).toHaveLength(3);
    expect({ entries: entries(), runs: runs() }).toEqual(before);
    const dryJson = JSON.parse((await lth(['cache', 'gc', '--cache-dir', cache, '--keep-runs', '1', '--grace', '0', '--dry-run', '--json'], env)).out);
    expect(dryJson).toMatchObject({ dryRun: true, kept: 4, removed: 3, removedRuns: 1 });
    expect({ entries: entries(), runs: runs() }).toEqual(before);
    // The real gc removes exactly the keys the dry run named.
    const real = JSON.parse((await lth(['cache', 'gc', '--cache-dir', cache, '--keep-runs', '1', '--grace', '0', '--json'], env)).out);
    expect(real).toMatchObject({ dryRun: false, kept: 4, removed: 3, removedRuns: 1 });
    expect([...real.removedKeys].sort()).toEqual([...dryJson.removedKeys].sort());
    expect(entries()).toEqual(before.entries.filter((k) => !dryJson.removedKeys.includes(k)));
  });

  it('datasets keeps its columns aligned for long dataset names', async () => {
    // The listed names include synthetic_cifar10 (17 characters), longer than the fixed width
    // of 14 the table used to pad to, which pushed that row's columns out of line.
    const dir = tempDir();
    const r = await lth(['datasets'], { LTH_DATA_DIR: join(dir, 'data'), LTH_OFFLINE: '1' });
    expect(r.code).toBe(0);
    // The table, then a blank line and where downloads are cached.
    const [table, footer] = r.out.split('\n\n');
    expect(footer).toBe(`downloads are cached in ${join(dir, 'data')} (set by LTH_DATA_DIR)\n`);
    const lines = table!.split('\n');
    expect(lines.length).toBeGreaterThanOrEqual(3);
    expect(Math.max(...lines.map((l) => l.split(' ')[0]!.length))).toBeGreaterThan(14);
    // Every line's second and third columns start at the same offsets.
    const starts = lines.map((l) => {
      const m = l.match(/^(\S+ +)(\S+ +)/);
      return m ? [m[1]!.length, m[1]!.length + m[2]!.length] : null;
    });
    expect(new Set(starts.map((s) => JSON.stringify(s))).size).toBe(1);
  });
});
