#!/usr/bin/env node
// Soak test of the cache's crash safety (issue #14), NOT part of `npm test` or `npm run bench`:
//   npm run soak            (builds first)     node tools/soak.mjs [--kills 100] [--seed 1] [--jobs 2] [--json]
//
// A tiny quickstart-like pipeline (LeNet-300-100 on synthetic_mnist, a few iterations, two
// pruning rounds, a report) is run once uninterrupted for reference. Then, N times: an `lth
// run` that recomputes a random (seeded) subset of stages with --force is SIGKILLed (with its
// worker processes) at a random (seeded) moment; the next run must complete (exit 0) with
// every stage's cache key and output sha256 identical to the reference run, and `lth cache
// verify` must report 0 corrupt entries. Prints kills, completed, mismatches, corrupt entries
// and wall time.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const BIN = new URL('../packages/cli/dist/bin.js', import.meta.url).pathname;

const PIPELINE = `name: soak
params: { seed: 0, iterations: 40, evalEvery: 20 }
stages:
  data: { uses: data/load, with: { dataset: synthetic_mnist, validation: 50, seed: "\${params.seed}" } }
  init: { uses: models/init, with: { arch: lenet_300_100, seed: "\${params.seed}" } }
  dense:
    uses: trainer/train
    inputs: { weights: init, data: data }
    with: { iterations: "\${params.iterations}", evalEvery: "\${params.evalEvery}", seed: "\${params.seed}" }
  round:
    foreach: { r: "1..2", init: { train: dense } }
    stages:
      prune:
        uses: pruner/magnitude
        inputs: { weights: "\${prev}.train.weights", mask: "\${prev}.prune.mask" }
        with: { scope: layerwise, rate: { fc: 0.2, output: 0.1 } }
      reset: { uses: rewinder/reset, inputs: { weights: init, mask: prune.mask } }
      train:
        uses: trainer/train
        inputs: { weights: reset, data: data, mask: prune.mask }
        with: { iterations: "\${params.iterations}", evalEvery: "\${params.evalEvery}", seed: "\${params.seed}" }
  report:
    uses: report/lottery
    inputs: { tickets: "round[*].train.metrics", dense: dense.metrics, ticketSparsity: "round[*].prune.sparsity" }
    with: { title: soak, rate: 0.2 }
`;
const FORCEABLE = ['data', 'init', 'dense', 'prune', 'reset', 'train', 'report'];

function parseArgs(argv) {
  const o = { kills: 100, seed: 1, jobs: 2, json: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--kills') o.kills = Number(argv[++i]);
    else if (a === '--seed') o.seed = Number(argv[++i]);
    else if (a === '--jobs') o.jobs = Number(argv[++i]);
    else if (a === '--json') o.json = true;
    else throw new Error(`tools/soak.mjs: unknown argument '${a}' (usage: --kills N --seed S --jobs J --json)`);
  }
  for (const k of ['kills', 'jobs']) if (!(Number.isInteger(o[k]) && o[k] > 0)) throw new Error(`tools/soak.mjs: --${k} needs a positive integer`);
  return o;
}

/** mulberry32: the kill moments and forced stages are a function of --seed. */
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function lth(args, cwd, killAfterMs) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
      env: { ...process.env, LTH_OFFLINE: '1' },
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    const t0 = Date.now();
    const timer =
      killAfterMs === undefined
        ? undefined
        : setTimeout(() => {
            try {
              process.kill(-child.pid, 'SIGKILL');
            } catch {
              /* already gone */
            }
          }, killAfterMs);
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      resolve({ code, signal, out, err, ms: Date.now() - t0 });
    });
  });
}

const sha = (file) => createHash('sha256').update(readFileSync(file)).digest('hex');

/** stage id → { key, outputs: port → sha256 of the file } from a `--json` run record. */
function fingerprint(recordText) {
  const rec = JSON.parse(recordText);
  return Object.fromEntries(
    rec.stages.map((s) => [s.id, { key: s.cacheKey, outputs: Object.fromEntries(Object.entries(s.outputs).map(([p, f]) => [p, sha(f)])) }]),
  );
}

const opts = parseArgs(process.argv.slice(2));
const say = (m) => process.stderr.write(`${m}\n`);
const dir = mkdtempSync(join(tmpdir(), 'lth-soak-'));
const file = join(dir, 'soak.yaml');
writeFileSync(file, PIPELINE);
const t0 = Date.now();

say(`soak: reference run in ${dir}`);
const ref = await lth(['run', file, '--cache-dir', join(dir, 'ref'), '--jobs', String(opts.jobs), '--json'], dir);
if (ref.code !== 0) throw new Error(`reference run failed (exit ${ref.code}):\n${ref.err}`);
const expected = fingerprint(ref.out);
const refMs = ref.ms;
say(`soak: reference run took ${(refMs / 1000).toFixed(1)} s; ${Object.keys(expected).length} stages`);
// Identical reruns must produce identical bytes: a second cold run in its own cache.
const ref2 = await lth(['run', file, '--cache-dir', join(dir, 'ref2'), '--jobs', String(opts.jobs), '--json'], dir);
const reproducible = ref2.code === 0 && JSON.stringify(fingerprint(ref2.out)) === JSON.stringify(expected);
rmSync(join(dir, 'ref2'), { recursive: true, force: true });

const random = rng(opts.seed);
const cache = join(dir, 'cache');
const stats = { kills: 0, killedBeforeExit: 0, completed: 0, mismatches: 0, failedReruns: 0, corruptEntries: 0, verifyFailures: 0 };
const problems = [];
for (let i = 0; i < opts.kills; i++) {
  const forced = FORCEABLE.filter(() => random() < 0.3);
  const at = Math.floor(random() * refMs * 1.1);
  const killed = await lth(['run', file, '--cache-dir', cache, '--jobs', String(opts.jobs), ...forced.flatMap((f) => ['--force', f])], dir, at);
  stats.kills++;
  if (killed.signal === 'SIGKILL') stats.killedBeforeExit++;
  const again = await lth(['run', file, '--cache-dir', cache, '--jobs', String(opts.jobs), '--json'], dir);
  if (again.code !== 0) {
    stats.failedReruns++;
    problems.push(`kill ${i + 1} (at ${at} ms, --force ${forced.join(',') || '-'}): rerun exit ${again.code}: ${again.err.split('\n').slice(-5).join(' | ')}`);
  } else if (JSON.stringify(fingerprint(again.out)) !== JSON.stringify(expected)) {
    stats.mismatches++;
    problems.push(`kill ${i + 1}: rerun results differ from the reference run`);
  } else stats.completed++;
  const verify = await lth(['cache', 'verify', '--json', '--cache-dir', cache], dir);
  try {
    const v = JSON.parse(verify.out);
    stats.corruptEntries += v.corrupt.length;
    if (v.corrupt.length) problems.push(`kill ${i + 1}: verify: ${v.corrupt.map((c) => c.problem).join('; ')}`);
  } catch {
    stats.verifyFailures++;
    problems.push(`kill ${i + 1}: lth cache verify failed: ${verify.err}`);
  }
  say(
    `soak: ${i + 1}/${opts.kills}: killed at ${at} ms (${killed.signal ?? `exit ${killed.code}`}), --force ${forced.join(',') || '-'}; rerun ${again.code === 0 ? 'ok' : `exit ${again.code}`} in ${(again.ms / 1000).toFixed(1)} s`,
  );
}
const result = { ...stats, identicalColdReruns: reproducible, referenceRunMs: refMs, wallMs: Date.now() - t0, seed: opts.seed, jobs: opts.jobs, problems };
if (opts.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
else {
  process.stdout.write(
    `soak: ${stats.kills} SIGKILLs (${stats.killedBeforeExit} before the run ended), ${stats.completed} reruns completed with identical results, ` +
      `${stats.mismatches} differed, ${stats.failedReruns} failed; ${stats.corruptEntries} corrupt entries; ` +
      `two cold runs identical: ${reproducible}; wall time ${((Date.now() - t0) / 60000).toFixed(1)} min\n`,
  );
  for (const p of problems) process.stdout.write(`  ${p}\n`);
}
rmSync(dir, { recursive: true, force: true });
process.exitCode = stats.completed === stats.kills && stats.corruptEntries === 0 && reproducible ? 0 : 1;
