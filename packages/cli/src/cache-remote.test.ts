import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { calls, lth, tempDir, testEnv, writeFile } from './__tests__/harness';

// --remote without a queue, `lth cache push/pull` and `lth status --remote`, in this process
// on a file:// remote store (the store itself is tested on S3 too, in @lth/cluster).
const PIPELINE = `name: m
stages:
  a: { uses: test/work, with: { value: 1, tag: a } }
  b: { uses: test/work, inputs: { a: a }, with: { tag: b } }
`;

describe('remote store commands', () => {
  it('push, pull and status move and report a run between machines; a run with --remote publishes', async () => {
    const dir = tempDir();
    const log = join(dir, 'calls.log');
    const env = testEnv(log);
    const file = writeFile(dir, 'm.yaml', PIPELINE);
    const remote = `file://${join(dir, 'remote')}`;
    const cache = (n: string) => join(dir, n);

    expect((await lth(['run', file, '--cache-dir', cache('one'), '--in-process'], env)).code).toBe(0);
    // Not in the remote store yet.
    const before = await lth(['status', file, '--cache-dir', cache('two'), '--remote', remote], env);
    expect(before.out).toContain('2 of 2 stages would run');
    const push = await lth(['cache', 'push', '--cache-dir', cache('one'), '--remote', remote], env);
    expect([push.code, push.out]).toEqual([0, expect.stringContaining('m: pushed 2, already there 0, missing 0')]);
    const again = await lth(['cache', 'push', '--cache-dir', cache('one'), '--remote', remote], env);
    expect(again.out).toContain('pushed 0, already there 2');
    // Another machine: status counts the remote entries, pull brings them, verified.
    const status = await lth(['status', file, '--cache-dir', cache('two'), '--remote', remote], env);
    expect(status.out).toContain('all 2 stages are cached');
    expect(existsSync(join(cache('two'), 'entries'))).toBe(false);
    const record = join(cache('one'), 'runs', readdirSync(join(cache('one'), 'runs'))[0] as string);
    const pull = await lth(['cache', 'pull', record, '--cache-dir', cache('two'), '--remote', remote, '--json'], env);
    expect([pull.code, JSON.parse(pull.out).pulled.length]).toEqual([0, 2]);
    expect((await lth(['cache', 'verify', '--cache-dir', cache('two')], env)).out).toContain('2 entries checked, 0 corrupt');
    // A run with --remote on a third machine takes both from the remote store (no stage runs),
    // and a run with --remote that computes publishes what it computed.
    const n = calls(log).length;
    const third = await lth(['run', file, '--cache-dir', cache('three'), '--remote', remote, '--in-process', '--json'], env);
    expect([third.code, JSON.parse(third.out).stages.map((s: { status: string }) => s.status), calls(log).length]).toEqual([0, ['cached', 'cached'], n]);
    expect(JSON.parse(third.out).remote).toBe(remote);
    const other = writeFile(dir, 'o.yaml', PIPELINE.replace('value: 1', 'value: 2'));
    expect((await lth(['run', other, '--cache-dir', cache('four'), '--remote', remote, '--in-process'], env)).code).toBe(0);
    expect(readdirSync(join(dir, 'remote', 'entries'))).toHaveLength(4);
  });

  it('a remote manifest claiming a 1 TB file is refused before any download, named, withdrawn, and the stage recomputed', async () => {
    const dir = tempDir();
    const log = join(dir, 'calls.log');
    const env = testEnv(log);
    const file = writeFile(dir, 'h.yaml', `name: h\nstages:\n  h: { uses: test/work, with: { value: 4, tag: h } }\n`);
    const remote = `file://${join(dir, 'remote')}`;
    const first = await lth(['run', file, '--cache-dir', join(dir, 'one'), '--remote', remote, '--in-process', '--json'], env);
    expect(first.code).toBe(0);
    const key = JSON.parse(first.out).stages[0].cacheKey as string;
    const manifest = join(dir, 'remote', 'entries', `${key}.json`);
    const meta = JSON.parse(readFileSync(manifest, 'utf8'));
    meta.contents[0].size = 2 ** 40;
    writeFileSync(manifest, JSON.stringify(meta));
    // Another machine: the entry is not used (remote-store.test.ts: not one file is fetched),
    // the stage runs again, and its sound entry is published in its place.
    const second = await lth(['run', file, '--cache-dir', join(dir, 'two'), '--remote', remote, '--in-process', '--json'], env);
    expect([second.code, JSON.parse(second.out).stages[0].status, calls(log).filter((c) => c.tag === 'h')]).toEqual([
      0,
      'ran',
      [expect.anything(), expect.anything()],
    ]);
    expect(second.err).toContain(
      `remote entry ${key.slice(0, 12)} in ${remote} is corrupt (the manifest is invalid at contents.0.size (file '${meta.contents[0].path}': 1099511627776): must be at most 2147483647 bytes (LIMITS.entryFileBytes)); withdrawn, recomputing`,
    );
    expect(JSON.parse(readFileSync(manifest, 'utf8')).contents[0].size).toBeLessThan(2 ** 31);
  });

  it('bad remote URLs and a queue without a remote store are usage errors (exit 2)', async () => {
    const dir = tempDir();
    const env = testEnv(join(dir, 'calls.log'));
    const file = writeFile(dir, 'm.yaml', PIPELINE);
    const http = await lth(['run', file, '--cache-dir', join(dir, 'c'), '--remote', 'http://example.invalid/x'], env);
    expect([http.code, http.err]).toEqual([2, expect.stringContaining("--remote: unsupported scheme 'http:'")]);
    const creds = await lth(['status', file, '--remote', 's3://key:secret@bucket/p'], env);
    expect([creds.code, creds.err]).toEqual([2, expect.stringContaining('put no credentials in an s3:// URL')]);
    expect(creds.err).not.toContain('secret');
    const noRemote = await lth(['run', file, '--cache-dir', join(dir, 'c'), '--queue', 'redis://127.0.0.1:1'], { ...env, LTH_REMOTE: '' });
    expect([noRemote.code, noRemote.err]).toEqual([2, expect.stringContaining('--queue needs a remote store')]);
    const worker = await lth(['worker', '--remote', `file://${dir}/r`], { ...env, LTH_QUEUE: '' });
    expect([worker.code, worker.err]).toEqual([2, expect.stringContaining('lth worker needs --queue')]);
  });
});
