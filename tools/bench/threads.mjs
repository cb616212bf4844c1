// Both cores for one training run (issue 18): the trainer step of Conv-2 and LeNet-300-100 at
// batch 60 with 1 and 2 threads for our wasm kernels (@lth/compute setThreads; the split is
// bit-identical, see packages/compute/src/wasm/gemm/parallel.ts) or, with LTH_NATIVE_BLAS=1, for
// the native steps (nativeDenseStep, nativeConvNetStep: the addon's pool), the products behind the size
// threshold (one thread, two threads forced, and what the cost model picks), and, where
// /usr/bin/python3 has torch, PyTorch's Conv-2 step with 2 threads (tools/bench/torch_step.py)
// and the ratio (goal: at most 0.5x). Imports the built code: `npx tsc -b packages/trainer`.
// Run alone: node tools/bench/threads.mjs
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { timeMedian } from '../bench-lib/timing.mjs';
import { findTorch, torchEnv } from '../bench-lib/torch.mjs';

const require = createRequire(import.meta.url);
const root = new URL('../../', import.meta.url).pathname;
const compute = require(join(root, 'packages/compute/dist/index.js'));
const data = require(join(root, 'packages/data/dist/index.js'));
const models = require(join(root, 'packages/models/dist/index.js'));
const trainer = require(join(root, 'packages/trainer/dist/index.js'));
const { tf, gemmThreadPolicy: threadPolicy } = compute;

/** ms per trainer step (Adam, unmasked, no evaluation) of `arch` at batch 60. */
async function stepMs(arch, shape, steps, warmup) {
  const ds = data.syntheticDataset({ seed: 0, shape, train: 1200, validation: 60, test: 60 });
  const model = models.createModel(models.initWeights({ arch, options: {} }, 0));
  const base = { batchSize: 60, evalEvery: 1e9, trainEvalExamples: 0, evalBatchSize: 60, optimizer: { type: 'adam', lr: 1.2e-3 } };
  try {
    await trainer.trainModel(model, ds, trainer.parseTrainConfig({ ...base, iterations: warmup }));
    return (await trainer.trainModel(model, ds, trainer.parseTrainConfig({ ...base, iterations: steps }))).timing.msPerStep;
  } finally {
    model.dispose();
  }
}

/** One product [m, k] x [k, n] (transposes as tf.matMul) with 1 thread, 2 forced, and as the cost model picks. */
function productRows(label, [m, k, n], transposeA, transposeB, runs) {
  const a = tf.randomNormal(transposeA ? [k, m] : [m, k]);
  const b = tf.randomNormal(transposeB ? [n, k] : [k, n]);
  // void: a typed array returned from tidy() is walked element by element looking for tensors (seconds).
  const time = () => timeMedian(() => tf.tidy(() => void tf.matMul(a, b, transposeA, transposeB).dataSync()), runs, 2);
  const rows = [];
  try {
    compute.setThreads(1);
    rows.push({ name: `${label}: 1 thread`, ms: time() });
    compute.setThreads(2);
    threadPolicy.force = true;
    rows.push({ name: `${label}: 2 threads (forced)`, ms: time() });
    threadPolicy.force = false;
    const before = compute.parallelGemmCount();
    const ms = time();
    rows.push({ name: `${label}: 2 threads (threshold)`, ms, note: compute.parallelGemmCount() > before ? 'split' : 'kept on one thread' });
  } finally {
    threadPolicy.force = false;
    compute.setThreads(undefined);
    tf.dispose([a, b]);
  }
  return rows;
}

/** PyTorch's Conv-2 step with every core (2 here), from torch_step.py; null without torch. */
function torchConv2(log) {
  const { python } = findTorch();
  if (!python) return null;
  log('torch: torch_step.py');
  const r = spawnSync(python, [join(root, 'tools/bench/torch_step.py')], { encoding: 'utf8', maxBuffer: 1 << 20, env: torchEnv() });
  if (r.status !== 0) throw new Error(`torch_step.py failed: ${r.stderr.trim().split('\n').pop()}`);
  const cores = availableParallelism();
  return JSON.parse(r.stdout).find((row) => row.name === 'conv2 train step' && row.backend === `torch${cores}t`) ?? null;
}

export async function run(opts = {}) {
  const log = opts.log ?? (() => {});
  const { name: backend } = await compute.initBackend('wasm');
  const rows = [];
  const smoke = opts.runs !== undefined && opts.runs < 3;
  const conv2Steps = opts.runs ?? 10;
  const lenetSteps = opts.runs ?? 100;
  const stepRows = {};
  for (const threads of [1, 2]) {
    compute.setThreads(threads);
    try {
      log(`wasm: conv2 and lenet steps, ${threads} thread(s)`);
      stepRows[`conv2/${threads}`] = await stepMs('conv2', [32, 32, 3], conv2Steps, smoke ? 1 : 3);
      stepRows[`lenet/${threads}`] = await stepMs('lenet_300_100', [28, 28, 1], lenetSteps, smoke ? 1 : 20);
    } finally {
      compute.setThreads(undefined);
    }
  }
  for (const [arch, label, steps] of [
    ['conv2', 'conv2 trainer step, batch 60', conv2Steps],
    ['lenet', 'lenet-300-100 trainer step, batch 60', lenetSteps],
  ]) {
    const [one, two] = [stepRows[`${arch}/1`], stepRows[`${arch}/2`]];
    rows.push({ name: `${label}, 1 thread`, backend, ms: one, runs: steps });
    rows.push({ name: `${label}, 2 threads`, backend, ms: two, runs: steps, note: `${(one / two).toFixed(2)}x faster than 1 thread` });
  }
  log('wasm: products around the threshold');
  const runs = smoke ? 1 : 10;
  const products = [
    ['conv2 fc1 forward [60,16384]x[16384,256]', [60, 16384, 256], false, false],
    ['conv2 fc1 input gradient [60,256]x[16384,256]^T', [60, 256, 16384], false, true],
    ['conv2 fc1 weight gradient [60,16384]^T x [60,256]', [16384, 60, 256], true, false],
    ['a Winograd point product of conv2 [3840,64]x[64,64]', [3840, 64, 64], false, false],
    ['vgg-width [1024,256]x[256,256]', [1024, 256, 256], false, false],
  ];
  for (const [label, dims, ta, tb] of products) rows.push(...productRows(label, dims, ta, tb, runs).map((r) => ({ ...r, backend, runs })));
  const torch = opts.torch === false ? null : torchConv2(log);
  if (torch) {
    rows.push(torch);
    const ours = stepRows['conv2/2'];
    rows.push({ name: 'conv2 step, ours with 2 threads / PyTorch with 2 threads (goal <= 0.5)', backend: 'ratio', ms: ours / torch.ms, note: 'ratio, not ms' });
  } else rows.push({ name: 'PyTorch conv2 step, 2 threads', backend: 'torch', ms: NaN, note: `skipped: ${findTorch().why}` });
  await compute.stopThreads();
  return rows;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const runs = process.argv.includes('--smoke') ? 1 : undefined;
  const rows = await run({ runs, torch: !process.argv.includes('--no-torch'), log: (m) => process.stderr.write(`${m}\n`) });
  for (const r of rows)
    console.log(`${r.name.padEnd(72)} ${r.backend.padEnd(8)} ${Number.isFinite(r.ms) ? r.ms.toFixed(2).padStart(9) : '      n/a'}  ${r.note ?? ''}`);
}
