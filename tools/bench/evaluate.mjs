// Evaluation cost of @lth/trainer against the raw forward pass (issue 18): LeNet-300-100 on
// MNIST at the paper's cadence evaluates validation (5,000) + test (10,000) + a 2,000-image
// training sample = 17,000 images, in batches of evalBatchSize 500.
//   (a) raw forward: the model's products + bias + relu over the same 17,000 images, inputs
//       already on the device (what an evaluation cannot avoid);
//   (b) one evaluation as the trainer does it, measured inside trainModel (evalEvery 1): the
//       time between a step's progress report and the 'evaluated at' one. The first
//       evaluation (iteration 0, with any one-off preparation) is reported apart;
//   (a') the same products with layer widths padded to multiples of 8, which is what the
//       trainer's evaluation runs (model.inference: @lth/compute's gemm instead of XNNPACK);
//   and a breakdown of the pieces an evaluation is made of. Target: (b) <= 1.2x (a); (b)/(a')
//   is the evaluation's own overhead over the products it runs.
// Wall times are medians; on a shared machine the process CPU time (in the note) is the
// steadier figure, and the ratio is given for both.
// Imports the built code: `npx tsc -b`. Run alone: node tools/bench/evaluate.mjs
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { loadavg } from 'node:os';
import { pathToFileURL } from 'node:url';
import { median } from '../bench-lib/timing.mjs';

const require = createRequire(import.meta.url);
const root = new URL('../../', import.meta.url).pathname;
const compute = require(join(root, 'packages/compute/dist/index.js'));
const data = require(join(root, 'packages/data/dist/index.js'));
const models = require(join(root, 'packages/models/dist/index.js'));
const trainer = require(join(root, 'packages/trainer/dist/index.js'));
const { tf } = compute;

const BATCH = 500;
const SPLITS = [
  ['train', 2000],
  ['validation', undefined],
  ['test', undefined],
];

const cpuMs = (since) => {
  const c = process.cpuUsage(since);
  return (c.user + c.system) / 1000;
};

/** Median wall and CPU ms of `fn` over `runs` runs after one warm-up. */
function measure(fn, runs) {
  fn();
  const wall = [];
  const cpu = [];
  for (let i = 0; i < runs; i++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    fn();
    wall.push(performance.now() - t0);
    cpu.push(cpuMs(c0));
  }
  return { wall: median(wall), cpu: median(cpu) };
}

async function mnistOrSynthetic(log) {
  try {
    return { ds: await data.loadDataset({ dataset: 'mnist', validation: 5000 }), what: 'MNIST' };
  } catch (err) {
    log(`MNIST not available (${String(err?.message ?? err).split('\n')[0]}); synthetic 28x28 data of the same sizes`);
    return { ds: data.syntheticDataset({ seed: 0, shape: [28, 28, 1], train: 2000, validation: 5000, test: 10000 }), what: 'synthetic' };
  }
}

/** The evaluation batches as device tensors, made once (the raw forward's inputs). */
function premade(ds) {
  const out = [];
  for (const [split, limit] of SPLITS) for (const b of data.evalBatches(ds, split, BATCH, limit === undefined ? {} : { limit })) out.push(b);
  return out;
}

/** LeNet's dense layers as [weight, bias] pairs, in order. */
function denseLayers(model) {
  const names = [...model.params.keys()].filter((n) => n.endsWith('.weight'));
  return names.map((n) => [model.params.get(n), model.params.get(n.replace(/weight$/, 'bias'))]);
}

/** x·W + b, relu between layers: the products the model's forward pass runs. */
function rawForward(batches, layers) {
  for (const b of batches) {
    tf.tidy(() => {
      let h = tf.reshape(b.x, [b.x.shape[0], -1]);
      layers.forEach(([w, bias], i) => {
        h = tf.fused.matMul({ a: h, b: w, bias });
        if (i < layers.length - 1) h = tf.relu(h);
      });
      return h;
    }).dispose();
  }
}

/** The same with every layer's output width padded to a multiple of 8 (zero columns/rows). */
function paddedLayers(layers) {
  let rowsPad = 0;
  return layers.map(([w, b]) => {
    const [, n] = w.shape;
    const colsPad = (8 - (n % 8)) % 8;
    const pw = tf.pad(w, [
      [0, rowsPad],
      [0, colsPad],
    ]);
    const pb = tf.pad(b, [[0, colsPad]]);
    rowsPad = colsPad;
    return [pw, pb];
  });
}

/** Evaluations inside trainModel: wall/CPU ms of each, from the step's report to 'evaluated at'. */
async function trainerEvaluations(ds, w0, count) {
  const model = models.createModel(w0);
  const evals = [];
  let mark;
  const start = { t: performance.now(), c: process.cpuUsage() };
  mark = start;
  const cfg = trainer.parseTrainConfig({ iterations: count, evalEvery: 1, evalBatchSize: BATCH, trainEvalExamples: 2000 });
  await trainer.trainModel(model, ds, cfg, {
    progressEveryMs: 0,
    progress: (p) => {
      const now = { t: performance.now(), c: process.cpuUsage() };
      if (p.message?.startsWith('evaluated at')) evals.push({ iteration: p.iteration, wall: now.t - mark.t, cpu: cpuMs(mark.c) });
      mark = now;
    },
  });
  model.dispose();
  return evals;
}

export async function run(opts = {}) {
  const log = opts.log ?? (() => {});
  const { name: backend } = await compute.ensureBackend();
  const runs = opts.runs ?? 5;
  const { ds, what } = await mnistOrSynthetic(log);
  const w0 = models.initWeights({ arch: 'lenet_300_100', options: {} }, 0);
  const load = () => `load ${loadavg()[0].toFixed(1)}`;
  const rows = [];
  const row = (name, m, runsN, extra = '') =>
    rows.push({ name, backend, ms: m.wall, runs: runsN, note: `cpu ${m.cpu.toFixed(1)} ms; ${load()}${extra ? `; ${extra}` : ''}` });

  log(`raw forward (${what})`);
  const batches = premade(ds);
  const model = models.createModel(w0);
  const layers = denseLayers(model);
  const raw = measure(() => rawForward(batches, layers), runs);
  row('(a) raw forward: LeNet products+bias+relu, 17,000 images on the device, batch 500', raw, runs);
  const padded = paddedLayers(layers);
  const rawPadded = measure(() => rawForward(batches, padded), runs);
  row("(a') raw forward, layer widths padded to multiples of 8 (the gemm; what model.inference runs)", rawPadded, runs);
  tf.dispose(padded.flat());

  log('breakdown');
  row(
    '    piece: batch assembly + normalization + upload (evalBatches)',
    measure(() => {
      for (const [split, limit] of SPLITS) for (const b of data.evalBatches(ds, split, BATCH, limit === undefined ? {} : { limit })) data.disposeBatch(b);
    }, runs),
    runs,
  );
  row(
    '    piece: model.apply in eval mode (pre-made inputs)',
    measure(() => {
      for (const b of batches) model.apply(b.x, { training: false }).dispose();
    }, runs),
    runs,
  );
  if (typeof model.inference === 'function') {
    row(
      '    piece: model.inference() (padded, one per evaluation; pre-made inputs)',
      measure(() => {
        const fwd = model.inference();
        for (const b of batches) fwd.apply(b.x).dispose();
        fwd.dispose();
      }, runs),
      runs,
    );
  }
  const logits = batches.map((b) => model.apply(b.x, { training: false }));
  if (typeof trainer.addBatchSums === 'function') {
    const labels = batches.map((b) => b.y.dataSync());
    row(
      '    piece: loss + accuracy in JS from read-back logits (addBatchSums)',
      measure(() => {
        const sums = { loss: 0, correct: 0, count: 0 };
        logits.forEach((l, i) => trainer.addBatchSums(sums, l.dataSync(), labels[i], l.shape[1]));
      }, runs),
      runs,
    );
  }
  row(
    '    piece: crossEntropy (oneHot x logSoftmax) on the logits',
    measure(() => {
      logits.forEach((l, i) => trainer.crossEntropy(l, batches[i].y).dispose());
    }, runs),
    runs,
  );
  row(
    '    piece: accuracy (argMax, equal, sum) + one read-back per batch',
    measure(() => {
      logits.forEach((l, i) => {
        const c = tf.tidy(() => tf.sum(tf.cast(tf.equal(tf.argMax(l, 1), batches[i].y), 'float32')));
        c.dataSync();
        c.dispose();
      });
    }, runs),
    runs,
  );
  tf.dispose(logits);
  row(
    '    evaluateSplit x3 (the streaming path, public API)',
    measure(() => {
      for (const [split, limit] of SPLITS) trainer.evaluateSplit(model, ds, split, BATCH, limit);
    }, runs),
    runs,
  );
  tf.dispose(batches.flatMap((b) => [b.x, b.y]));
  model.dispose();

  log('evaluations inside trainModel');
  const evals = await trainerEvaluations(ds, w0, runs + 1);
  const first = evals[0];
  const steady = { wall: median(evals.slice(1).map((e) => e.wall)), cpu: median(evals.slice(1).map((e) => e.cpu)) };
  row('    trainer: first evaluation (iteration 0, incl. one-off preparation)', first, 1);
  row('(b) trainer: one evaluation of 17,000 images (median of later ones)', steady, evals.length - 1);
  rows.push({
    name: '(b)/(a) evaluation / raw forward, target <= 1.2 (x, not ms)',
    backend,
    ms: steady.wall / raw.wall,
    runs: evals.length - 1,
    note: `by CPU time ${(steady.cpu / raw.cpu).toFixed(2)}x; ${load()}`,
  });
  rows.push({
    name: "(b)/(a') evaluation / padded raw forward: the evaluation's own overhead (x, not ms)",
    backend,
    ms: steady.wall / rawPadded.wall,
    runs: evals.length - 1,
    note: `by CPU time ${(steady.cpu / rawPadded.cpu).toFixed(2)}x; ${load()}`,
  });
  return rows;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const rows = await run({ log: (m) => process.stderr.write(`${m}\n`) });
  for (const r of rows) console.log(`${r.name.padEnd(92)} ${r.backend.padEnd(5)} ${r.ms.toFixed(2).padStart(9)}  ${r.note ?? ''}`);
}
