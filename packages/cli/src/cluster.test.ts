import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { calls, lth, spawnLth, tempDir, testEnv, waitFor, writeFile, type Spawned } from './__tests__/harness';
import { REDIS_SERVER, startRedis, type TestRedis } from './__tests__/redis';

// `lth worker` / `lth run --queue` as real processes on a real redis-server (with a password)
// and a file:// remote store; every machine (coordinator, worker) has its own working directory
// and local cache. Stages are the engine's test stages: what is tested is the distribution.
jest.setTimeout(240_000);

const PASSWORD = 'pw-Secret-42';
const d = REDIS_SERVER ? describe : describe.skip;
if (!REDIS_SERVER) {
  // CI installs it (.ci/run): there a missing redis-server is a failure, not a skip.
  if (process.env['CI']) it('redis-server is installed', () => expect(REDIS_SERVER).toBeDefined());
  else console.warn('cluster tests skipped: redis-server is not installed (apt-get install redis-server; .ci/run does)');
}

type Stage = { id: string; status: string; cacheKey: string; outputs: Record<string, string>; worker?: string; host?: string };
const sha = (f: string) => createHash('sha256').update(readFileSync(f)).digest('hex');

d('lth worker and lth run --queue', () => {
  let redis: TestRedis;
  let root: string;
  let remote: string;
  let log: string;
  let env: Record<string, string>;
  const workers: Spawned[] = [];

  const startWorker = async (name: string): Promise<Spawned> => {
    const cwd = join(root, name);
    mkdirSync(cwd, { recursive: true });
    const w = spawnLth(['worker', '--queue', redis.url, '--remote', remote, '--concurrency', '1'], env, cwd);
    workers.push(w);
    await waitFor(() => w.err().includes(' ready: '), `worker ${name} to connect`, 120_000);
    return w;
  };
  const run = (dir: string, file: string, extra: string[] = []) => {
    mkdirSync(join(root, dir), { recursive: true });
    return spawnLth(['run', file, '--queue', redis.url, '--remote', remote, '--json', ...extra], env, join(root, dir));
  };
  const stages = (p: Spawned): Stage[] => JSON.parse(p.out()).stages;

  beforeAll(async () => {
    redis = await startRedis(PASSWORD);
    root = tempDir();
    remote = `file://${join(root, 'remote')}`;
    log = join(root, 'calls.log');
    // A short lock so that the killed worker's job is handed over within the test, but not so
    // short that a live worker under CI load (load average ~12) misses a renewal (every half
    // lock) and loses its job as stalled: with 4 s, one test failed now and then, a different
    // one each time, which is what a lost lock does to whichever job is running.
    env = testEnv(log, { LTH_QUEUE_LOCK_MS: '15000' });
    await Promise.all([startWorker('w1'), startWorker('w2')]);
  });

  afterAll(async () => {
    for (const w of workers) if (w.child.exitCode === null && w.child.signalCode === null) process.kill(-(w.child.pid as number), 'SIGKILL');
    await redis?.stop();
  });

  it('runs each stage once across two workers, with the keys and artifacts of a local run; a third machine gets all from the remote store', async () => {
    const file = writeFile(
      root,
      'p.yaml',
      `name: p
stages:
  a: { uses: test/work, with: { value: 1, tag: a, sleepMs: 200 } }
  b: { uses: test/work, with: { value: 2, tag: b, sleepMs: 200 } }
  ab: { uses: test/work, inputs: { a: a, b: b }, with: { tag: ab } }
`,
    );
    const p = run('c1', file);
    const e = await p.exit;
    expect([e.code, p.err()]).toEqual([0, expect.stringContaining('3 ran')]);
    expect(
      calls(log)
        .map((c) => c.tag)
        .sort(),
    ).toEqual(['a', 'ab', 'b']);
    const got = stages(p);
    for (const s of got) expect([s.id, s.worker, s.host]).toEqual([s.id, expect.stringMatching(/^.+:\d+$/), expect.any(String)]);
    // Same keys and bytes as a local run of the same pipeline.
    const local = await lth(['run', file, '--cache-dir', join(root, 'local'), '--json', '--in-process'], testEnv(join(root, 'local.log')));
    expect(local.code).toBe(0);
    const want = (JSON.parse(local.out).stages as Stage[]).map((s) => [s.id, s.cacheKey, sha(s.outputs['table'] as string)]);
    expect(got.map((s) => [s.id, s.cacheKey, sha(s.outputs['table'] as string)])).toEqual(want);
    // Credentials never in the record or the output.
    const record = readFileSync(JSON.parse(p.out()).recordFile, 'utf8');
    expect(record).toContain('redis://:***@127.0.0.1');
    for (const text of [record, p.err(), p.out(), ...workers.map((w) => w.err())]) expect(text).not.toContain(PASSWORD);
    // A third machine: everything is a cache hit from the remote store, nothing is computed.
    const q = run('c2', file);
    expect([(await q.exit).code, stages(q).map((s) => s.status)]).toEqual([0, ['cached', 'cached', 'cached']]);
    expect(calls(log)).toHaveLength(3);
    expect(stages(q).map((s) => sha(s.outputs['table'] as string))).toEqual(want.map((w) => w[2]));
  });

  it('two coordinators started together on one pipeline compute each entry once', async () => {
    const file = writeFile(
      root,
      't.yaml',
      `name: t
stages:
  x: { uses: test/work, with: { value: 3, tag: x, sleepMs: 800 } }
  y: { uses: test/work, inputs: { a: x }, with: { tag: y } }
`,
    );
    const [p1, p2] = [run('t1', file), run('t2', file)];
    const [e1, e2] = await Promise.all([p1.exit, p2.exit]);
    expect([e1.code, e2.code, p1.err() + p2.err()]).toEqual([0, 0, expect.any(String)]);
    expect(
      calls(log)
        .map((c) => c.tag)
        .filter((t) => t === 'x' || t === 'y')
        .sort(),
    ).toEqual(['x', 'y']);
    expect(stages(p1).map((s) => s.cacheKey)).toEqual(stages(p2).map((s) => s.cacheKey));
  });

  it("a stage that throws fails the run (exit 1) with the worker's message and host", async () => {
    const file = writeFile(root, 'f.yaml', `name: f\nstages:\n  bad: { uses: test/work, with: { tag: bad, fail: true } }\n`);
    const p = run('f1', file);
    expect((await p.exit).code).toBe(1);
    expect(p.err()).toMatch(/configured to fail \(bad\) \(on worker [^:\s]+:\d+\)/);
  });

  it('a flipped byte in a remote entry is reported and never used; a sound copy replaces it', async () => {
    const file = writeFile(root, 'z.yaml', `name: z\nstages:\n  z: { uses: test/work, with: { value: 7, tag: z } }\n`);
    const p = run('z1', file);
    expect((await p.exit).code).toBe(0);
    const key = stages(p)[0]?.cacheKey as string;
    const manifest = JSON.parse(readFileSync(join(root, 'remote', 'entries', `${key}.json`), 'utf8')) as { contents: Array<{ sha256: string }> };
    const blob = join(root, 'remote', 'blobs', manifest.contents[0]?.sha256 as string);
    const bytes = readFileSync(blob);
    bytes[bytes.length - 20] = (bytes[bytes.length - 20] as number) ^ 0xff;
    writeFileSync(blob, bytes);
    const q = run('z2', file);
    expect((await q.exit).code).toBe(0);
    expect(q.err()).toMatch(new RegExp(`remote entry ${key.slice(0, 12)} .* is corrupt \\(file 'table.arrow': content hash mismatch\\)`));
    // The remote entry is sound again, with the original content (republished by the worker
    // whose verified local copy it was; with none, the stage is recomputed).
    expect(sha(blob)).toBe(manifest.contents[0]?.sha256);
    expect(sha(stages(q)[0]?.outputs['table'] as string)).toBe(sha(stages(p)[0]?.outputs['table'] as string));
  });

  it('a wrong Redis password is a usage error (exit 2) that does not print the password', async () => {
    const wrong = redis.url.replace(encodeURIComponent(PASSWORD), 'not-the-password');
    const r = await lth(['worker', '--queue', wrong, '--remote', remote, '--cache-dir', join(root, 'wp')], env);
    expect([r.code, r.err]).toEqual([
      2,
      expect.stringMatching(/--queue: cannot use Redis at redis:\/\/:\*\*\*@127\.0\.0\.1:\d+\/?: .*(WRONGPASS|invalid username-password)/),
    ]);
    expect(r.err).not.toContain('not-the-password');
  });

  it('Ctrl-C on the coordinator removes its queued job and stops its running ones on the workers (exit 130)', async () => {
    const meet = join(root, 'intr');
    mkdirSync(meet);
    const st = (t: string) => `  ${t}: { uses: test/work, with: { tag: ${t}, meet: { dir: '${meet}', peer: go } } }\n`;
    const file = writeFile(root, 'i.yaml', `name: i\nstages:\n${st('i1')}${st('i2')}${st('i3')}`);
    const status = await lth(['status', file, '--json', '--cache-dir', join(root, 'i0')], env);
    const keys = Object.fromEntries((JSON.parse(status.out) as Array<{ id: string; cacheKey: string }>).map((l) => [l.id, l.cacheKey]));
    const p = run('i1', file);
    // Two workers of concurrency 1: two stages start, the third stays queued.
    await waitFor(() => ['i1', 'i2', 'i3'].filter((t) => existsSync(join(meet, t))).length === 2, 'two stages to start', 120_000);
    const queued = ['i1', 'i2', 'i3'].find((t) => !existsSync(join(meet, t))) as string;
    const exists = (key: string) =>
      execFileSync('redis-cli', ['-p', String(redis.port), '-a', PASSWORD, '--no-auth-warning', 'EXISTS', `bull:lth-stages:${key}`])
        .toString()
        .trim();
    expect(exists(keys[queued] as string)).toBe('1');
    p.child.kill('SIGINT');
    const e = await p.exit;
    expect([e.code, p.err()]).toEqual([130, expect.stringContaining('interrupted')]);
    expect(exists(keys[queued] as string)).toBe('0');
    // The running ones are stopped by their workers (no other run wants them) and never published.
    const running = ['i1', 'i2', 'i3'].filter((t) => t !== queued);
    const stopped = (t: string) => workers.some((w) => w.err().includes(`${t}: failed: cancelled: no run wants ${t}`));
    await waitFor(() => running.every(stopped), 'the workers to stop the running stages', 120_000);
    for (const t of ['i1', 'i2', 'i3']) expect(existsSync(join(root, 'remote', 'entries', `${keys[t]}.json`))).toBe(false);
  });

  it('a Redis restart (its data lost) pauses the run, which then resumes without losing the finished stage', async () => {
    const meet = join(root, 'restart');
    mkdirSync(meet);
    const file = writeFile(
      root,
      'r.yaml',
      `name: r\nstages:\n  r1: { uses: test/work, with: { value: 9, tag: r1, meet: { dir: '${meet}', peer: go } } }\n  r2: { uses: test/work, inputs: { a: r1 }, with: { tag: r2 } }\n`,
    );
    const p = run('r1', file);
    await waitFor(() => existsSync(join(meet, 'r1')), 'the first stage to start on a worker', 120_000);
    await redis.stop();
    writeFileSync(join(meet, 'go'), '');
    // r1 finishes and is published while Redis is down; Redis comes back empty.
    await waitFor(() => calls(log).some((c) => c.tag === 'r1'), 'r1 to finish', 120_000);
    await redis.start();
    const e = await p.exit;
    expect([e.code, p.err()]).toEqual([0, expect.stringContaining('2 ran')]);
    expect(
      calls(log)
        .filter((c) => c.tag === 'r1' || c.tag === 'r2')
        .map((c) => c.tag),
    ).toEqual(['r1', 'r2']);
  });

  it('a worker killed mid-stage hands its job to the other worker; the run completes and nothing partial is published', async () => {
    const meet = join(root, 'meet');
    mkdirSync(meet);
    const file = writeFile(
      root,
      'k.yaml',
      `name: k\nstages:\n  slow: { uses: test/work, with: { value: 5, tag: slow, meet: { dir: '${meet}', peer: go } } }\n`,
    );
    const p = run('k1', file);
    await waitFor(() => existsSync(join(meet, 'slow')), 'the stage to start on a worker', 120_000);
    const victim = workers.find((w) => w.err().includes('slow (test/work'));
    expect(victim).toBeDefined();
    process.kill(-(victim?.child.pid as number), 'SIGKILL');
    await victim?.exit;
    // Nothing of the killed stage is published: no manifest for its key.
    const entries = () => readdirSync(join(root, 'remote', 'entries'));
    const before = entries();
    writeFileSync(join(meet, 'go'), '');
    const e = await p.exit;
    expect([e.code, p.err()]).toEqual([0, expect.stringContaining('1 ran')]);
    const s = stages(p)[0] as Stage;
    expect(before).not.toContain(`${s.cacheKey}.json`);
    expect(s.worker).not.toBe(`${victim?.err().match(/worker (\S+) ready/)?.[1]}`);
    expect(calls(log).filter((c) => c.tag === 'slow')).toHaveLength(1);
    // Every remote entry is whole: each listed file is there with its hash.
    for (const m of entries()) {
      const meta = JSON.parse(readFileSync(join(root, 'remote', 'entries', m), 'utf8')) as { contents: Array<{ sha256: string }> };
      for (const f of meta.contents) expect(sha(join(root, 'remote', 'blobs', f.sha256))).toBe(f.sha256);
    }
  });

  it('SIGTERM: a worker finishes its running stage, publishes it and exits 0', async () => {
    const meet = join(root, 'term');
    mkdirSync(meet);
    const file = writeFile(root, 's.yaml', `name: s\nstages:\n  s: { uses: test/work, with: { value: 11, tag: s, meet: { dir: '${meet}', peer: go } } }\n`);
    const p = run('s1', file);
    await waitFor(() => existsSync(join(meet, 's')), 'the stage to start on a worker', 120_000);
    const live = workers.filter((w) => w.child.exitCode === null && w.child.signalCode === null);
    const busy = live.find((w) => w.err().includes('s (test/work'));
    expect(busy).toBeDefined();
    for (const w of live) w.child.kill('SIGTERM');
    await waitFor(() => (busy?.err() ?? '').includes('finishing the running stages'), 'the worker to take the signal');
    writeFileSync(join(meet, 'go'), '');
    const [e, we] = await Promise.all([p.exit, busy?.exit]);
    expect([e.code, we?.code]).toEqual([0, 0]);
    expect(busy?.err()).toMatch(/s \(\w{12}\): published[\s\S]*stopped/);
  });
});

d('lth worker and lth run --queue over TLS (rediss://)', () => {
  it('runs a stage through a TLS-only, password-protected Redis', async () => {
    const redis = await startRedis(PASSWORD, true);
    const root = tempDir();
    const log = join(root, 'calls.log');
    const env = testEnv(log, { NODE_EXTRA_CA_CERTS: redis.ca as string });
    const remote = `file://${join(root, 'remote')}`;
    mkdirSync(join(root, 'w'));
    const w = spawnLth(['worker', '--queue', redis.url, '--remote', remote, '--concurrency', '1'], env, join(root, 'w'));
    try {
      await waitFor(() => w.err().includes(' ready: ') || w.child.exitCode !== null, 'the worker to connect', 120_000);
      expect(w.err()).toContain('ready: queue rediss://:***@127.0.0.1');
      const file = writeFile(root, 'tls.yaml', `name: tls\nstages:\n  t: { uses: test/work, with: { value: 1, tag: t } }\n`);
      const p = spawnLth(['run', file, '--queue', redis.url, '--remote', remote], env, root);
      expect([(await p.exit).code, p.err()]).toEqual([0, expect.stringContaining('1 ran')]);
      expect(calls(log).map((c) => c.tag)).toEqual(['t']);
    } finally {
      process.kill(-(w.child.pid as number), 'SIGKILL');
      await redis.stop();
    }
  });
});
