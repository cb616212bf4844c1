import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { calls, lth, spawnLth, tempDir, testEnv, waitFor, writeFile } from './__tests__/harness';

// Issue #14, defects 2 and 6, with real `lth run` processes.
jest.setTimeout(180_000);

const entries = (cache: string) => (existsSync(join(cache, 'entries')) ? readdirSync(join(cache, 'entries')) : []);

describe('lth cache gc during a run (defect 2)', () => {
  it('keeps the entries a live run uses, even with --grace 0; the run completes; afterwards they can go', async () => {
    const dir = tempDir();
    const log = join(dir, 'calls.log');
    const cache = join(dir, 'cache');
    const file = writeFile(
      dir,
      'g.yaml',
      `name: g
stages:
  a: { uses: test/work, with: { value: 1, tag: a } }
  slow: { uses: test/work, inputs: { a: a }, with: { tag: slow, sleepMs: 3000 } }
  after: { uses: test/work, inputs: { a: a, b: slow }, with: { tag: after } }
`,
    );
    const env = testEnv(log);
    // a's entry exists from an earlier run whose record gc is told to forget (--keep-runs 1 keeps
    // only the newest record, which is not written until the live run ends)
    expect(
      (
        await lth(
          ['run', writeFile(dir, 'a.yaml', 'name: a\nstages:\n  a: { uses: test/work, with: { value: 1, tag: a } }\n'), '--cache-dir', cache, '--in-process'],
          env,
        )
      ).code,
    ).toBe(0);
    writeFile(dir, 'other.yaml', 'name: o\nstages:\n  o: { uses: test/work, with: { value: 7, tag: o } }\n');
    expect((await lth(['run', join(dir, 'other.yaml'), '--cache-dir', cache, '--in-process'], env)).code).toBe(0);
    const p = spawnLth(['run', file, '--cache-dir', cache, '--jobs', '1', '--json'], env, dir);
    await waitFor(() => /running slow/.test(p.err()), 'the slow stage to start');
    const gc = await lth(['cache', 'gc', '--cache-dir', cache, '--keep-runs', '1', '--grace', '0'], env);
    expect(gc.code).toBe(0);
    // kept: o (newest record) and a (the live run registered it); removed: nothing else exists
    expect(gc.out).toMatch(/^kept 2 entries \(1 only because a live run uses them/);
    const e = await p.exit;
    expect([e.code, p.err()]).toEqual([0, expect.not.stringContaining('ENOENT')]);
    expect(JSON.parse(p.out()).stages.map((s: { status: string }) => s.status)).toEqual(['cached', 'ran', 'ran']);
    expect(calls(log).map((c) => c.tag)).toEqual(['a', 'o', 'slow', 'after']);
    // the run is over: its registration and pins are gone, and gc may now collect what no record keeps
    expect(existsSync(join(cache, 'runs', 'active'))).toBe(false);
    expect(existsSync(join(cache, 'pins'))).toBe(false);
    const later = await lth(['cache', 'gc', '--cache-dir', cache, '--keep-runs', '1', '--grace', '0'], env);
    expect(later.out).toMatch(/^kept 3 entries, removed 1 /);
    expect(entries(cache)).toHaveLength(3);
  });

  it('the registration of a killed run is stale: gc removes it and its pins', async () => {
    const dir = tempDir();
    const cache = join(dir, 'cache');
    const log = join(dir, 'calls.log');
    const file = writeFile(
      dir,
      'k.yaml',
      'name: k\nstages:\n  a: { uses: test/work, with: { tag: a } }\n  h: { uses: test/work, inputs: { a: a }, with: { tag: h } }\n',
    );
    const p = spawnLth(['run', file, '--cache-dir', cache, '--jobs', '1'], testEnv(log, { LTH_TEST_HANG: 'h' }), dir);
    await waitFor(() => calls(log).some((c) => c.tag === 'h:hang'), 'the stage to hang');
    process.kill(-(p.child.pid as number), 'SIGKILL');
    await p.exit;
    expect(readdirSync(join(cache, 'runs', 'active'))).toHaveLength(1);
    expect(readdirSync(join(cache, 'pins'))).toHaveLength(1);
    const gc = await lth(['cache', 'gc', '--cache-dir', cache, '--grace', '0'], testEnv(log));
    expect(gc.code).toBe(0);
    expect(readdirSync(join(cache, 'runs', 'active'))).toHaveLength(0);
    expect(readdirSync(join(cache, 'pins'))).toHaveLength(0);
  });
});

describe('a full disk (defect 6)', () => {
  it('fails the stage with a plain reason, leaves no empty lock or run record, and the next run does not wait', async () => {
    const dir = tempDir();
    const cache = join(dir, 'cache');
    mkdirSync(cache);
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', cache], { stdio: 'ignore' });
    } catch {
      console.warn('skipped: cannot mount a tmpfs here (needs root and CAP_SYS_ADMIN)');
      return;
    }
    try {
      const log = join(dir, 'calls.log');
      const file = writeFile(dir, 'f.yaml', 'name: f\nstages:\n  a: { uses: test/work, with: { value: 1, tag: a } }\n');
      // fill the disk, leaving a few bytes
      const filler = join(cache, 'filler');
      writeFileSync(filler, Buffer.alloc(0));
      for (let chunk = 64 << 10; chunk >= 16; chunk >>= 1) {
        try {
          for (;;) writeFileSync(filler, Buffer.alloc(chunk), { flag: 'a' });
        } catch {
          /* full at this chunk size: try a smaller one */
        }
      }
      const full = await lth(['run', file, '--cache-dir', cache, '--in-process'], testEnv(log));
      expect(full.code).toBe(1);
      expect(full.err).toMatch(/no space left on device \(ENOSPC/);
      expect(full.err).not.toMatch(/^\s+at /m);
      const empty = (sub: string) =>
        (existsSync(join(cache, sub)) ? readdirSync(join(cache, sub)) : []).filter(
          (f) => statSync(join(cache, sub, f)).isFile() && statSync(join(cache, sub, f)).size === 0,
        );
      expect([empty('locks'), empty('runs')]).toEqual([[], []]);
      unlinkSync(filler);
      const again = await lth(['run', file, '--cache-dir', cache, '--in-process'], testEnv(log));
      expect(again.code).toBe(0);
      expect(again.err).not.toContain('another process is computing this entry');
      expect(entries(cache)).toHaveLength(1);
    } finally {
      execFileSync('umount', [cache]);
    }
  });
});
