import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { calls, spawnLth, tempDir, testEnv, waitFor, writeFile } from './__tests__/harness';

// Real `lth run` processes (with their worker processes) on one cache directory.
jest.setTimeout(180_000);

const entries = (cache: string) => (existsSync(join(cache, 'entries')) ? readdirSync(join(cache, 'entries')) : []);

describe('lth run as separate processes', () => {
  it('two concurrent runs on one cache compute every entry exactly once', async () => {
    const dir = tempDir();
    const log = join(dir, 'calls.log');
    const cache = join(dir, 'cache');
    const file = writeFile(
      dir,
      'c.yaml',
      `name: c
stages:
  a: { uses: test/work, with: { value: 1, tag: a, sleepMs: 1500 } }
  b: { uses: test/work, with: { value: 2, tag: b, sleepMs: 1500 } }
  ab: { uses: test/work, inputs: { a: a, b: b }, with: { tag: ab, sleepMs: 500 } }
`,
    );
    const env = testEnv(log);
    const p1 = spawnLth(['run', file, '--cache-dir', cache, '--json', '--jobs', '2'], env, dir);
    const p2 = spawnLth(['run', file, '--cache-dir', cache, '--json', '--jobs', '2'], env, dir);
    const [e1, e2] = await Promise.all([p1.exit, p2.exit]);
    expect([e1.code, e2.code, p1.err() + p2.err()]).toEqual([0, 0, expect.any(String)]);
    const tags = calls(log)
      .map((c) => c.tag)
      .sort();
    expect(tags).toEqual(['a', 'ab', 'b']);
    const s1 = JSON.parse(p1.out()).stages as Array<{ id: string; status: string; cacheKey: string }>;
    const s2 = JSON.parse(p2.out()).stages as Array<{ id: string; status: string; cacheKey: string }>;
    for (const id of ['a', 'b', 'ab']) {
      const st = [s1.find((s) => s.id === id)?.status, s2.find((s) => s.id === id)?.status].sort();
      expect([id, st]).toEqual([id, ['cached', 'ran']]);
    }
    expect(s1.map((s) => s.cacheKey)).toEqual(s2.map((s) => s.cacheKey));
    expect(entries(cache)).toHaveLength(3);
  });

  it('a run killed while a stage writes leaves no entry; the rerun recovers the lock and computes it', async () => {
    const dir = tempDir();
    const log = join(dir, 'calls.log');
    const cache = join(dir, 'cache');
    const file = writeFile(
      dir,
      'k.yaml',
      `name: k
stages:
  a: { uses: test/work, with: { value: 1, tag: a } }
  h: { uses: test/work, inputs: { a: a }, with: { tag: h } }
`,
    );
    const p = spawnLth(['run', file, '--cache-dir', cache, '--jobs', '1'], testEnv(log, { LTH_TEST_HANG: 'h' }), dir);
    await waitFor(() => calls(log).some((c) => c.tag === 'h:hang'), 'the stage to start writing');
    process.kill(-(p.child.pid as number), 'SIGKILL');
    expect((await p.exit).signal).toBe('SIGKILL');
    // a's entry survives; h has only a staging directory with its partial file, no entry
    const aKey = entries(cache);
    expect(aKey).toHaveLength(1);
    const staging = readdirSync(join(cache, 'tmp'));
    expect(staging.some((d) => existsSync(join(cache, 'tmp', d, 'files', 'partial.bin')))).toBe(true);
    expect(readdirSync(join(cache, 'locks')).filter((f) => f.endsWith('.lock'))).toHaveLength(1);
    const t0 = Date.now();
    const again = spawnLth(['run', file, '--cache-dir', cache, '--json', '--jobs', '1'], testEnv(log), dir);
    const e = await again.exit;
    expect([e.code, again.err()]).toEqual([0, expect.any(String)]);
    // the dead owner's lock is taken over at once, not after the 30 s heartbeat timeout
    expect(Date.now() - t0).toBeLessThan(25_000);
    const stages = JSON.parse(again.out()).stages as Array<{ id: string; status: string }>;
    expect(stages.map((s) => [s.id, s.status])).toEqual([
      ['a', 'cached'],
      ['h', 'ran'],
    ]);
    expect(entries(cache)).toHaveLength(2);
  });

  it('Ctrl-C stops cleanly (exit 130) and the rerun resumes from the completed stages', async () => {
    const dir = tempDir();
    const log = join(dir, 'calls.log');
    const cache = join(dir, 'cache');
    const file = writeFile(
      dir,
      'i.yaml',
      `name: i
stages:
  fast: { uses: test/work, with: { value: 1, tag: fast } }
  slow: { uses: test/work, with: { value: 2, tag: slow, sleepMs: 4000 } }
  after: { uses: test/work, inputs: { a: fast, b: slow }, with: { tag: after } }
`,
    );
    const p = spawnLth(['run', file, '--cache-dir', cache, '--jobs', '2', '--json'], testEnv(log), dir);
    await waitFor(() => /done +fast/.test(p.err()) && /running slow/.test(p.err()), 'fast to finish while slow runs');
    p.child.kill('SIGINT');
    const e = await p.exit;
    expect(e.code).toBe(130);
    expect(p.err()).toContain('interrupt: stopping running stages');
    const rec = JSON.parse(p.out());
    expect(rec.status).toBe('interrupted');
    expect(rec.stages.map((s: { id: string; status: string }) => [s.id, s.status])).toEqual([
      ['fast', 'ran'],
      ['slow', 'failed'],
      ['after', 'skipped'],
    ]);
    expect(entries(cache)).toHaveLength(1);
    // The summary lists no outputs: 'after' was never produced, and fast's table is not the run's output.
    expect(rec.report).toBeUndefined();
    expect(p.err()).toContain('outputs: none (interrupted before the last stage completed');
    expect(p.err()).not.toContain(`outputs: ${cache}`);
    const again = spawnLth(['run', file, '--cache-dir', cache, '--json'], testEnv(log), dir);
    expect((await again.exit).code).toBe(0);
    expect(JSON.parse(again.out()).stages.map((s: { id: string; status: string }) => [s.id, s.status])).toEqual([
      ['fast', 'cached'],
      ['slow', 'ran'],
      ['after', 'ran'],
    ]);
    expect(calls(log).map((c) => c.tag)).toEqual(['fast', 'slow', 'after']);
    const records = readdirSync(join(cache, 'runs')).sort();
    expect(readFileSync(join(cache, 'runs', records[0] as string), 'utf8')).toContain('"status": "interrupted"');
  });
});
