// Training-step time of every model of @lth/models (issue 4): forward (training mode), softmax
// cross-entropy, gradients, Adam update, mask re-application, at the paper's batch size, median
// of several steps, on every available backend; a LeNet-300-100 breakdown (where the time goes);
// and, when a Python with torch is found, the equivalent PyTorch step (tools/bench/torch_step.py)
// side by side. Imports the built code: run `npx tsc -b packages/models` first.
// Run alone: node tools/bench/models.mjs [--quick]
import { createRequire } from 'node:module';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { timeMedian as timeIt } from '../bench-lib/timing.mjs';
import { findTorch, torchEnv } from '../bench-lib/torch.mjs';

const require = createRequire(import.meta.url);
const root = new URL('../../', import.meta.url).pathname;
const compute = require(join(root, 'packages/compute/dist/index.js'));
const models = require(join(root, 'packages/models/dist/index.js'));
const { tf } = compute;

/**
 * Paper batch sizes. `runs` steps are timed after one warm-up. VGG-19 at batch 64 takes
 * minutes per step on wasm and ResNet-20 at 128 tens of seconds, so by default they are timed
 * at a reduced batch (`benchBatch`, noted in the row) unless LTH_BENCH_FULL=1. Conv nets are
 * skipped on the pure-JS cpu backend (its Conv2DBackpropFilter needs ~11 s per 32x32x64 image).
 */
const CASES = [
  { arch: 'lenet_300_100', batch: 60, runs: 20 },
  { arch: 'conv2', batch: 60, runs: 5 },
  { arch: 'conv4', batch: 60, runs: 5 },
  { arch: 'conv6', batch: 60, runs: 3 },
  { arch: 'resnet18', batch: 128, benchBatch: 16, runs: 3 },
  { arch: 'vgg19', batch: 64, benchBatch: 4, runs: 2 },
];
const LR = 1.2e-3;

/** A mask keeping a random 50% of every prunable tensor (what a pruned round trains with). */
function halfMask(bundle, seed) {
  const rng = compute.createRng('test', seed);
  return {
    meta: { content: 'mask', model: bundle.meta.model },
    tensors: bundle.tensors
      .filter((t) => ['conv', 'fc', 'output', 'shortcut'].includes(t.role))
      .map((t) => ({ ...t, values: Uint8Array.from(t.values, () => (rng.next() < 0.5 ? 1 : 0)) })),
  };
}

/** Host-side batch like the trainer gets from @lth/data: float32 images and int labels. */
function hostBatch(spec, batch, seed) {
  const [h, w, c] = spec.input;
  const rng = compute.createRng('test', seed);
  return {
    images: Float32Array.from({ length: batch * h * w * c }, () => rng.normal()),
    labels: Int32Array.from({ length: batch }, () => rng.int(10)),
    shape: [batch, h, w, c],
  };
}

/** Everything one training step does; each part can be switched off for the breakdown. */
function makeStep(model, opt, host, parts = { upload: true, mask: true, update: true, backward: true }) {
  const fixed = tf.tidy(() => ({ x: tf.tensor4d(host.images, host.shape), y: tf.oneHot(tf.tensor1d(host.labels, 'int32'), 10) }));
  tf.keep(fixed.x);
  tf.keep(fixed.y);
  const vars = [...model.params.values()];
  const step = () => {
    tf.tidy(() => {
      const x = parts.upload ? tf.tensor4d(host.images, host.shape) : fixed.x;
      const y = parts.upload ? tf.oneHot(tf.tensor1d(host.labels, 'int32'), 10) : fixed.y;
      const loss = () => tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true }));
      if (!parts.backward) return void loss().dataSync();
      const { value, grads } = tf.variableGrads(loss, vars);
      if (parts.update) opt.applyGradients(grads);
      if (parts.mask) model.reapplyMask();
      value.dataSync();
    });
  };
  step.dispose = () => tf.dispose([fixed.x, fixed.y]);
  return step;
}

function benchModel(c, backend, full, log) {
  const batch = full || !c.benchBatch ? c.batch : c.benchBatch;
  const ref = { arch: c.arch, options: {} };
  const bundle = models.initWeights(ref, 0);
  const model = models.createModel(bundle);
  model.applyMask(halfMask(bundle, 1));
  const opt = tf.train.adam(LR);
  const host = hostBatch(model.spec, batch, 2);
  const step = makeStep(model, opt, host);
  log(`${backend}: ${c.arch} batch ${batch}`);
  const ms = timeIt(step, c.runs);
  step.dispose();
  opt.dispose();
  model.dispose();
  const note = batch === c.batch ? `batch ${batch}, 50% masked` : `batch ${batch} (paper ${c.batch}; LTH_BENCH_FULL=1 for full), 50% masked`;
  return { name: `${c.arch} train step`, backend, ms, runs: c.runs, note };
}

/** Where the LeNet step's time goes: each row leaves out one part, or times it alone. */
async function lenetBreakdown(backend, log) {
  log(`${backend}: lenet breakdown`);
  const ref = { arch: 'lenet_300_100', options: {} };
  const bundle = models.initWeights(ref, 0);
  const rows = [];
  const runs = 20;
  const variant = async (name, parts) => {
    const model = models.createModel(bundle);
    model.applyMask(halfMask(bundle, 1));
    const opt = tf.train.adam(LR);
    const step = makeStep(model, opt, hostBatch(model.spec, 60, 2), parts);
    const ms = timeIt(step, runs, 2);
    const kernels = countKernels(step);
    step.dispose();
    opt.dispose();
    model.dispose();
    return { ms, kernels };
  };
  const full = { upload: true, mask: true, update: true, backward: true };
  const all = await variant('full', full);
  const results = {
    'lenet step: full': all.ms,
    'lenet step: no mask re-application': (await variant('nomask', { ...full, mask: false })).ms,
    'lenet step: no host->device upload': (await variant('noupload', { ...full, upload: false })).ms,
    'lenet step: no Adam update (and no mask)': (await variant('noupdate', { ...full, update: false, mask: false })).ms,
    'lenet step: forward + loss only': (await variant('fwd', { ...full, update: false, mask: false, backward: false })).ms,
  };
  for (const [name, ms] of Object.entries(results)) rows.push({ name, backend, ms, runs });
  return { rows, all };
}

/**
 * The step as @lth/trainer runs it: its MaskedOptimizer (Adam masking gradients and weights)
 * instead of tf.train.adam + reapplyMask. Null when the trainer is not built.
 */
function loadTrainer() {
  try {
    const t = require(join(root, 'packages/trainer/dist/index.js'));
    return typeof t.createOptimizer === 'function' && t.OptimizerConfig ? t : null;
  } catch {
    return null;
  }
}

function benchTrainerStep(trainer, arch, lr, runs, backend, log) {
  log(`${backend}: ${arch} with @lth/trainer's optimizer`);
  const bundle = models.initWeights({ arch, options: {} }, 0);
  const model = models.createModel(bundle);
  const mask = halfMask(bundle, 1);
  model.applyMask(mask);
  const opt = trainer.createOptimizer(trainer.OptimizerConfig.parse({ type: 'adam', lr }), model.params, { masks: model.masks });
  const host = hostBatch(model.spec, 60, 2);
  const names = new Map([...model.params].map(([k, v]) => [v.name, k]));
  const vars = [...model.params.values()];
  const step = () =>
    tf.tidy(() => {
      const x = tf.tensor4d(host.images, host.shape);
      const y = tf.oneHot(tf.tensor1d(host.labels, 'int32'), 10);
      const { value, grads } = tf.variableGrads(() => tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true })), vars);
      opt.step(new Map(Object.entries(grads).map(([k, g]) => [names.get(k), g])), lr);
      value.dataSync();
    });
  const ms = timeIt(step, runs);
  opt.dispose();
  model.dispose();
  return { name: `${arch} train step (@lth/trainer Adam)`, backend, ms, runs, note: 'batch 60, 50% masked, masks on gradients and weights' };
}

/** Conv-2's step by kernel (tf.profile; nested op scopes are left out so nothing counts twice). */
async function conv2Profile(backend, log) {
  log(`${backend}: conv2 profile`);
  const bundle = models.initWeights({ arch: 'conv2', options: {} }, 0);
  const model = models.createModel(bundle);
  model.applyMask(halfMask(bundle, 1));
  const opt = tf.train.adam(2e-4);
  const step = makeStep(model, opt, hostBatch(model.spec, 60, 2));
  step();
  const prof = await tf.profile(() => step());
  const byName = new Map();
  for (const k of prof.kernels) {
    if (k.name.endsWith('__op') || k.name === 'unnamed scope') continue;
    byName.set(k.name, (byName.get(k.name) ?? 0) + k.kernelTimeMs);
  }
  step.dispose();
  opt.dispose();
  model.dispose();
  const total = [...byName.values()].reduce((a, b) => a + b, 0);
  const top = [...byName]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 6)
    .map(([k, ms]) => `${k} ${ms.toFixed(0)}`)
    .join(', ');
  return { name: 'conv2 step: kernel time by kernel', backend, ms: total, runs: 1, note: top };
}

/** Kernels one call of `fn` runs (every op goes through engine.runKernelFunc). */
function countKernels(fn) {
  const engine = tf.engine();
  const orig = engine.runKernelFunc;
  const byName = {};
  let total = 0;
  engine.runKernelFunc = function (params) {
    const k = params.kernelName ?? 'custom';
    byName[k] = (byName[k] ?? 0) + 1;
    total++;
    return orig.call(this, params);
  };
  try {
    fn();
  } finally {
    engine.runKernelFunc = orig;
  }
  return { total, byName };
}

/** Pure dispatch cost: a chain of tiny adds, per op. */
function dispatchCost(backend) {
  const a = tf.scalar(1);
  const n = 1000;
  const ms = timeIt(
    () =>
      tf.tidy(() => {
        let x = a;
        for (let i = 0; i < n; i++) x = tf.add(x, a);
        x.dataSync();
      }),
    5,
  );
  a.dispose();
  return { name: 'op dispatch (scalar add)', backend, ms: ms / n, runs: 5, note: 'per op' };
}

function torchRows(log) {
  const { python: py, why } = findTorch();
  if (!py) return [{ name: 'pytorch step', backend: 'torch', ms: NaN, note: why }];
  log(`pytorch via ${py}`);
  const r = spawnSync(py, [join(root, 'tools/bench/torch_step.py')], { encoding: 'utf8', timeout: 600_000, env: torchEnv() });
  if (r.status !== 0)
    return [{ name: 'pytorch step', backend: 'torch', ms: NaN, note: `torch_step.py failed: ${(r.stderr || '').split('\n').slice(-3).join(' ')}` }];
  return JSON.parse(r.stdout).map((row) => ({ ...row, note: `${row.note ?? ''} (${py})`.trim() }));
}

export async function run(options = {}) {
  const log = options.log ?? (() => {});
  const full = process.env.LTH_BENCH_FULL === '1';
  const quick = options.quick ?? false;
  const rows = [];
  for (const backend of compute.availableBackends()) {
    await compute.initBackend(backend);
    rows.push(dispatchCost(backend));
    const { rows: breakdown, all } = await lenetBreakdown(backend, log);
    rows.push(...breakdown);
    const dispatch = rows.find((r) => r.backend === backend && r.name.startsWith('op dispatch')).ms;
    const n = all.kernels.total;
    const top = Object.entries(all.kernels.byName)
      .sort((a, b) => b[1] - a[1])
      .slice(0, 5)
      .map(([k, c]) => `${k} ${c}`)
      .join(', ');
    rows.push({ name: 'lenet step: kernels x dispatch cost', backend, ms: n * dispatch, runs: 1, note: `${n} kernels per step (${top})` });
    if (backend !== 'cpu') rows.push(await conv2Profile(backend, log));
    const trainer = loadTrainer();
    if (trainer) {
      rows.push(benchTrainerStep(trainer, 'lenet_300_100', 1.2e-3, 20, backend, log));
      if (backend !== 'cpu') rows.push(benchTrainerStep(trainer, 'conv2', 2e-4, 3, backend, log));
    } else rows.push({ name: 'train step (@lth/trainer Adam)', backend, ms: NaN, note: 'skipped: packages/trainer/dist not built' });
    for (const c of CASES) {
      if (backend === 'cpu' && c.arch !== 'lenet_300_100') {
        rows.push({ name: `${c.arch} train step`, backend, ms: NaN, note: 'skipped: cpu Conv2DBackpropFilter ~11 s per 32x32x64 image' });
        continue;
      }
      if (quick && c.arch !== 'lenet_300_100' && c.arch !== 'conv2') continue;
      rows.push(benchModel({ ...c, runs: options.runs ?? c.runs }, backend, full, log));
    }
  }
  rows.push(...torchRows(log));
  return rows;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const rows = await run({ log: (m) => process.stderr.write(`${m}\n`), quick: process.argv.includes('--quick') });
  for (const r of rows)
    console.log(`${r.name.padEnd(44)} ${r.backend.padEnd(6)} ${Number.isFinite(r.ms) ? r.ms.toFixed(2).padStart(9) : '      n/a'} ms  ${r.note ?? ''}`);
}
