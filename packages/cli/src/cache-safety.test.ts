import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { calls, lth, tempDir, testEnv, writeFile } from './__tests__/harness';

// Issue #14, defects 3 and 8 and `lth cache verify`, as a user meets them (exit codes, messages, files).
const TEXT = `name: t
stages:
  x: { uses: test/work, with: { value: 1, tag: x } }
  y: { uses: test/work, with: { value: 10, tag: y } }
  xy: { uses: test/work, inputs: { a: x, b: y }, with: { tag: xy } }
  all: { uses: test/collect, inputs: { items: [xy, x] } }
`;

async function ranOnce() {
  const dir = tempDir();
  const log = join(dir, 'calls.log');
  const file = writeFile(dir, 't.yaml', TEXT);
  const cache = join(dir, 'cache');
  const env = testEnv(log);
  const run = (...args: string[]) => lth(['run', file, '--cache-dir', cache, '--in-process', ...args], env);
  const first = await run('--json');
  expect(first.code).toBe(0);
  const keyOf = (id: string) => (JSON.parse(first.out).stages as Array<{ id: string; cacheKey: string }>).find((s) => s.id === id)?.cacheKey as string;
  writeFileSync(log, '');
  return { dir, log, file, cache, env, run, keyOf };
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const entryJson = (cache: string, key: string) => join(cache, 'entries', key, 'entry.json');
const edit = (file: string, f: (m: Record<string, unknown>) => void) => {
  const m = JSON.parse(readFileSync(file, 'utf8'));
  f(m);
  writeFileSync(file, JSON.stringify(m));
};

describe('cache entries are confined and every file is verified (defect 3)', () => {
  it('an entry whose output points outside the cache is corrupt: reported, moved aside, recomputed; the outside file untouched', async () => {
    const { dir, cache, env, run, log, keyOf } = await ranOnce();
    const key = keyOf('x');
    // a well-formed file outside, with a hash and size that match what entry.json claims
    const outside = join(dir, 'outside');
    mkdirSync(outside);
    const bytes = readFileSync(join(cache, 'entries', key, 'table.arrow'));
    writeFileSync(join(outside, 'weights.arrow'), bytes);
    edit(entryJson(cache, key), (m) => {
      m.outputs.table.file = '../../../outside/weights.arrow';
      m.contents.find((c: { path: string }) => c.path === 'table.arrow').path = '../../../outside/weights.arrow';
    });
    const verify = await lth(['cache', 'verify', '--cache-dir', cache], env);
    expect(verify.code).toBe(1);
    expect(verify.out).toContain(`corrupt ${key.slice(0, 12)}: `);
    expect(verify.out).toContain("has a '..' segment");
    const again = await run();
    expect(again.code).toBe(0);
    expect(again.err).toMatch(new RegExp(`warning: cache entry ${key.slice(0, 12)} is corrupt \\(.*'\\.\\.' segment`));
    expect(calls(log).map((c) => c.tag)).toEqual(['x']);
    expect(readdirSync(join(cache, 'corrupt'))).toHaveLength(1);
    expect(readFileSync(join(outside, 'weights.arrow'))).toEqual(bytes);
    expect((await lth(['cache', 'verify', '--cache-dir', cache], env)).code).toBe(0);
  });

  it('a tampered report (an extra file of the entry) is not served: the stage is recomputed', async () => {
    const { cache, env, run, log, keyOf } = await ranOnce();
    const key = keyOf('all');
    writeFileSync(join(cache, 'entries', key, 'files', 'report.md'), '# 2 items<script>alert(1)</script>\n');
    const again = await run('--json');
    expect(again.code).toBe(0);
    expect(again.err).toContain("(file 'files/report.md' size");
    expect(calls(log).map((c) => c.tag)).toEqual(['collect']);
    const all = JSON.parse(again.out).stages.find((s: { id: string }) => s.id === 'all');
    expect(readFileSync(join(all.files, 'report.md'), 'utf8')).toBe('# 2 items\n');
    // a file slipped into an entry is also refused
    writeFileSync(join(cache, 'entries', key, 'files', 'extra.html'), '<script></script>');
    const v = await lth(['cache', 'verify', '--json', '--cache-dir', cache], env);
    expect(v.code).toBe(1);
    expect(JSON.parse(v.out).corrupt).toEqual([{ key, problem: "unlisted file 'files/extra.html'", fixed: false }]);
  });

  it('an invalid entry.json (wrong types, {} or not JSON) is a corrupt entry, never a crash', async () => {
    const { cache, run, log, keyOf } = await ranOnce();
    edit(entryJson(cache, keyOf('x')), (m) => (m.outputs.table.sha256 = 42));
    writeFileSync(entryJson(cache, keyOf('y')), '{}');
    writeFileSync(entryJson(cache, keyOf('xy')), '\u0000garbage');
    const again = await run();
    expect(again.code).toBe(0);
    expect(again.err).toContain('entry.json invalid at outputs.table.sha256');
    expect(again.err).toContain('entry.json invalid at version');
    expect(again.err).toContain('entry.json is not valid JSON');
    expect(
      calls(log)
        .map((c) => c.tag)
        .sort(),
    ).toEqual(['x', 'xy', 'y']);
  });
});

describe('lth cache verify', () => {
  it('exit 0 when every entry is sound; --json; --fix moves corrupt entries to corrupt/ and the next run recomputes them', async () => {
    const { cache, env, run, log, keyOf } = await ranOnce();
    const ok = await lth(['cache', 'verify', '--json', '--cache-dir', cache], env);
    expect([ok.code, JSON.parse(ok.out).checked, JSON.parse(ok.out).corrupt]).toEqual([0, 4, []]);
    const file = join(cache, 'entries', keyOf('y'), 'table.arrow');
    const b = readFileSync(file);
    b[b.length >> 1] ^= 0xff;
    writeFileSync(file, b);
    expect(sha(b)).not.toBe('');
    const fix = await lth(['cache', 'verify', '--fix', '--cache-dir', cache], env);
    expect(fix.code).toBe(1);
    expect(fix.out).toContain(`corrupt ${keyOf('y').slice(0, 12)}: output 'table' content hash mismatch`);
    expect(fix.out).toContain('(moved to corrupt/)');
    expect(existsSync(join(cache, 'entries', keyOf('y')))).toBe(false);
    expect(readdirSync(join(cache, 'corrupt'))).toHaveLength(1);
    expect((await lth(['cache', 'verify', '--cache-dir', cache], env)).out).toContain('3 entries checked, 0 corrupt');
    expect((await run()).code).toBe(0);
    expect(calls(log).map((c) => c.tag)).toEqual(['y']);
  });
});

describe('malformed run records (defect 8)', () => {
  it('cache gc and report skip a `{}` or truncated record with a warning naming the file', async () => {
    const { cache, env } = await ranOnce();
    const runs = join(cache, 'runs');
    writeFileSync(join(runs, '9999-bad.json'), '{}');
    writeFileSync(join(runs, '9998-trunc.json'), '{"version": 1, "name": "t", "sta');
    const gc = await lth(['cache', 'gc', '--cache-dir', cache, '--keep-runs', '1', '--grace', '0'], env);
    expect(gc.code).toBe(0);
    expect(gc.err).toContain(`warning: skipping run record ${join(runs, '9999-bad.json')}: not a run record`);
    expect(gc.err).toContain(`warning: skipping run record ${join(runs, '9998-trunc.json')}: not valid JSON`);
    expect(gc.out).toContain('kept 4 entries');
    const rep = await lth(['report', '--cache-dir', cache], env);
    expect(rep.code).toBe(0);
    expect(rep.out).not.toContain('undefined');
    expect(readFileSync(join(rep.out.trim(), 'report.md'), 'utf8')).toBe('# 2 items\n');
    expect(rep.err).toContain('9999-bad.json');
    const direct = await lth(['report', join(runs, '9999-bad.json'), '--cache-dir', cache], env);
    expect(direct.code).toBe(2);
    expect(direct.err).toMatch(/9999-bad\.json: not a run record/);
  });
});

describe('unwritable cache directories (defect 6)', () => {
  it('--cache-dir naming a regular file, or a path under one: exit 2 with the reason, no stack trace', async () => {
    const { dir, file, env } = await ranOnce();
    const plain = writeFile(dir, 'plain', 'x');
    for (const [cacheDir, text] of [
      [plain, `${plain} is not a directory`],
      [join(plain, 'sub'), `${join(plain, 'sub')} cannot be created: ${plain} is not a directory`],
    ] as const) {
      const r = await lth(['run', file, '--cache-dir', cacheDir, '--in-process'], env);
      expect([r.code, r.err]).toEqual([2, `lth: --cache-dir: ${text}\n`]);
    }
  });

  it('a fully cached run on a read-only cache succeeds and says it could not record itself', async () => {
    const { cache, run } = await ranOnce();
    try {
      execFileSync('mount', ['--bind', cache, cache], { stdio: 'ignore' });
      execFileSync('mount', ['-o', 'remount,ro,bind', cache], { stdio: 'ignore' });
    } catch {
      console.warn('skipped: cannot bind-mount read-only here (needs root and CAP_SYS_ADMIN)');
      return;
    }
    try {
      const r = await run();
      expect(r.code).toBe(0);
      expect(r.err).toMatch(/^t: ok in .*0 ran, 4 cached/m);
      expect(r.err).toMatch(/run record: not written: could not write the run record in .*: read-only file system \(EROFS/);
      expect(r.err).not.toMatch(/^\s+at /m);
    } finally {
      execFileSync('umount', [cache]);
    }
  });
});
