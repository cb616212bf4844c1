import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES, lth, spawnLth, tempDir, testEnv, waitFor, writeFile, type Spawned } from './__tests__/harness';
import { REDIS_SERVER, startRedis, type TestRedis } from './__tests__/redis';

// What happens to one job on the queue: Ctrl-C on its coordinators stops it on the worker
// (but not while another coordinator still wants it), and --retries. Real processes: a
// redis-server, one `lth worker`, `lth run --queue` coordinators; a file:// remote store.
jest.setTimeout(900_000);

const d = REDIS_SERVER ? describe : describe.skip;
if (!REDIS_SERVER && process.env['CI']) it('redis-server is installed', () => expect(REDIS_SERVER).toBeDefined());

const ZOD = require.resolve('zod');
/** A plugin stage that fails its first `failures` attempts, counted in the file `counter`. */
const FLAKY = `const { existsSync, readFileSync, writeFileSync } = require('node:fs');
const { z } = require(${JSON.stringify(ZOD)});
exports.stages = [{
  id: 'plug/flaky',
  description: 'fails its first attempts, counted in a file',
  config: z.strictObject({ counter: z.string(), failures: z.number().int() }),
  inputs: {},
  outputs: { table: { kind: 'table' } },
  async run(_ctx, cfg) {
    const n = (existsSync(cfg.counter) ? Number(readFileSync(cfg.counter, 'utf8')) : 0) + 1;
    writeFileSync(cfg.counter, String(n));
    if (n <= cfg.failures) throw new Error('flaky: attempt ' + n + ' fails');
    return { table: { meta: { title: 'flaky', columns: [{ name: 'v', type: 'float64' }] }, rows: [{ v: n }] } };
  },
}];
`;

type Stage = { id: string; status: string; cacheKey: string; error?: string; worker?: string; host?: string; attempts?: number };

d('jobs on the queue: Ctrl-C and retries', () => {
  let redis: TestRedis;
  let root: string;
  let remote: string;
  let env: Record<string, string>;
  let worker: Spawned;
  let workerId: string;
  const spawned: Spawned[] = [];

  const cli = (...args: string[]) =>
    execFileSync('redis-cli', ['-p', String(redis.port), ...args])
      .toString()
      .trim();
  const run = (dir: string, file: string, extra: string[] = []) => {
    mkdirSync(join(root, dir), { recursive: true });
    const p = spawnLth(['run', file, '--queue', redis.url, '--remote', remote, '--json', ...extra], env, join(root, dir));
    spawned.push(p);
    return p;
  };
  const stages = (p: Spawned): Stage[] => JSON.parse(p.out()).stages;

  beforeAll(async () => {
    redis = await startRedis();
    root = tempDir();
    remote = `file://${join(root, 'remote')}`;
    env = testEnv(join(root, 'calls.log'));
    writeFileSync(join(root, 'flaky.js'), FLAKY);
    // The worker registers the plugin through its own installation (a job names no code to load).
    mkdirSync(join(root, 'w'));
    worker = spawnLth(
      ['worker', '--queue', redis.url, '--remote', remote, '--concurrency', '1'],
      { ...env, LTH_STAGE_MODULES: `${FIXTURES}:${join(root, 'flaky.js')}` },
      join(root, 'w'),
    );
    spawned.push(worker);
    await waitFor(() => worker.err().includes(' ready: '), 'the worker to connect', 240_000);
    workerId = worker.err().match(/worker (\S+) ready/)?.[1] as string;
  });

  afterAll(async () => {
    // Whatever a failed test left running (a coordinator it never interrupted, the worker).
    for (const p of spawned) if (p.child.exitCode === null && p.child.signalCode === null) process.kill(-(p.child.pid as number), 'SIGKILL');
    await redis?.stop();
  });

  it('Ctrl-C stops a running stage on its worker only once no other run wants it; nothing is published; the worker goes on', async () => {
    const file = writeFile(
      root,
      'slow.yaml',
      `name: slow\nstages:\n  train: { uses: test/curve, with: { curve: 0.5, iterations: 1000000, sleepMs: 20, tag: train } }\n`,
    );
    const status = await lth(['status', file, '--json', '--cache-dir', join(root, 's0')], env);
    const key = (JSON.parse(status.out) as Array<{ cacheKey: string }>)[0]?.cacheKey as string;
    const done = () => Number((JSON.parse(cli('HGET', `bull:lth-stages:${key}`, 'progress') || '{}') as { progress?: { done?: number } }).progress?.done ?? -1);
    // --retries 2: a stopped stage must still not be attempted again.
    const c1 = run('c1', file, ['--retries', '2']);
    await waitFor(() => done() >= 1, 'the stage to report progress on the worker', 240_000);
    // A second coordinator of the same pipeline joins the same job (job id = cache key).
    const c2 = run('c2', file, ['--retries', '2']);
    await waitFor(() => cli('SCARD', `lth:wants:${key}`) === '2', 'the second run to join the job', 240_000);

    c1.child.kill('SIGINT');
    expect([(await c1.exit).code, c1.err()]).toEqual([130, expect.stringContaining('interrupted')]);
    // c2 still wants it: the stage goes on.
    expect(cli('SCARD', `lth:wants:${key}`)).toBe('1');
    const atExit = done();
    await waitFor(() => done() > atExit + 10, 'the stage to go on for the other run', 240_000);
    expect(worker.err()).not.toContain('cancelled');

    c2.child.kill('SIGINT');
    expect([(await c2.exit).code, c2.err()]).toEqual([130, expect.stringContaining('interrupted')]);
    await waitFor(() => /train: failed: cancelled:/.test(worker.err()), 'the worker to stop the stage', 240_000);
    const at = Number(worker.err().match(/stage stopped at (\d+)\/1000000/)?.[1]);
    expect(at).toBeGreaterThan(atExit + 10);
    expect(at).toBeLessThan(500_000);
    // Failed for good, on its first attempt (not retried), and nothing published.
    expect(cli('ZSCORE', 'bull:lth-stages:failed', key)).not.toBe('');
    expect(cli('HGET', `bull:lth-stages:${key}`, 'atm')).toBe('1');
    expect(existsSync(join(root, 'remote', 'entries', `${key}.json`))).toBe(false);
    expect(readFileSync(join(root, 'calls.log'), 'utf8')).not.toMatch(/"tag":"train"/);

    // The worker takes the next job and runs it.
    const next = writeFile(root, 'next.yaml', `name: next\nstages:\n  n: { uses: test/work, with: { value: 1, tag: next } }\n`);
    const c3 = run('c3', next);
    expect([(await c3.exit).code, c3.err()]).toEqual([0, expect.stringContaining('1 ran')]);
    expect(stages(c3)[0]?.worker).toBe(workerId);
  });

  it('--retries: a stage that fails once passes with --retries 1 and fails with --retries 0 (message, host, attempts in the record)', async () => {
    const pipeline = (counter: string, failures: number) =>
      writeFile(
        root,
        `${counter}.yaml`,
        `name: ${counter}\nplugins: [./flaky.js]\nstages:\n  f: { uses: plug/flaky, with: { counter: '${join(root, counter)}', failures: ${failures} } }\n`,
      );
    const once = run('r0', pipeline('zero', 1), ['--retries', '0']);
    expect((await once.exit).code).toBe(1);
    expect(once.err()).toMatch(/flaky: attempt 1 fails \(on worker [^:\s]+:\d+\)/);
    expect(stages(once)[0]).toMatchObject({ status: 'failed', attempts: 1 });
    expect(readFileSync(join(root, 'zero'), 'utf8')).toBe('1');

    const retried = run('r1', pipeline('one', 1), ['--retries', '1']);
    expect([(await retried.exit).code, retried.err()]).toEqual([0, expect.stringContaining('1 ran')]);
    expect(stages(retried)[0]).toMatchObject({ status: 'ran', attempts: 2, worker: workerId, host: expect.any(String) });
    expect(readFileSync(join(root, 'one'), 'utf8')).toBe('2');

    const twice = run('r2', pipeline('two', 5), ['--retries', '1']);
    expect((await twice.exit).code).toBe(1);
    expect(twice.err()).toMatch(/flaky: attempt 2 fails \(on worker [^:\s]+:\d+\) \(attempt 2\)/);
    expect(stages(twice)[0]).toMatchObject({ status: 'failed', attempts: 2 });
  });
});
