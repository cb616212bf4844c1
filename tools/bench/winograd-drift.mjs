// Does Winograd F(4x4, 3x3)'s extra rounding change training? Conv-2 (50% masked, @lth/trainer
// Adam, lr 2e-4, batch 60) trained for 150 steps from one init on one sequence of synthetic
// CIFAR-shaped batches, three times on wasm: Winograd F(4x4), Winograd F(2x2) (rounding like
// the direct sum), and XNNPACK's direct convolution (LTH_WINOGRAD=0). Reports ms per step, the
// loss trajectories' largest relative difference and the weights' relative difference for each
// pair, so F(4x4)'s drift can be set against the drift that merely changing the summation order
// causes (F(2x2) vs direct).
// Imports the built code (npx tsc -b). Run alone: node tools/bench/winograd-drift.mjs (~3 min)
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const require = createRequire(import.meta.url);
const root = new URL('../../', import.meta.url).pathname;
const compute = require(join(root, 'packages/compute/dist/index.js'));
const winograd = require(join(root, 'packages/compute/dist/wasm/conv/winograd.js'));
const models = require(join(root, 'packages/models/dist/index.js'));
const trainer = require(join(root, 'packages/trainer/dist/index.js'));
const data = require(join(root, 'packages/data/dist/index.js'));
const { tf } = compute;

const STEPS = 150;
const BATCH = 60;
const LR = 2e-4;

function halfMask(bundle) {
  const rng = compute.createRng('test', 'bench/winograd-drift/mask');
  return {
    meta: { content: 'mask', model: bundle.meta.model },
    tensors: bundle.tensors
      .filter((t) => ['conv', 'fc', 'output', 'shortcut'].includes(t.role))
      .map((t) => ({ ...t, values: Uint8Array.from(t.values, () => (rng.next() < 0.5 ? 1 : 0)) })),
  };
}

/** 10 batches of noisy class prototypes (noise 120 of 255, so the loss falls over ~50 steps). */
function batches() {
  const ds = data.syntheticDataset({ seed: 3, shape: [32, 32, 3], train: 10 * BATCH, validation: 0, test: 0, noise: 120 });
  return { x: Float32Array.from(ds.images, (v) => (v - 128) / 64), y: Int32Array.from(ds.labels) };
}

function train(host) {
  const bundle = models.initWeights({ arch: 'conv2', options: {} }, 0);
  const model = models.createModel(bundle);
  model.applyMask(halfMask(bundle));
  const opt = trainer.createOptimizer(trainer.OptimizerConfig.parse({ type: 'adam', lr: LR }), model.params, { masks: model.masks });
  const names = new Map([...model.params].map(([k, v]) => [v.name, k]));
  const vars = [...model.params.values()];
  const size = 32 * 32 * 3;
  const losses = [];
  const t0 = performance.now();
  for (let s = 0; s < STEPS; s++) {
    const b = s % 10;
    losses.push(
      tf.tidy(() => {
        const xs = tf.tensor4d(host.x.subarray(b * BATCH * size, (b + 1) * BATCH * size), [BATCH, 32, 32, 3]);
        const ys = tf.oneHot(tf.tensor1d(host.y.subarray(b * BATCH, (b + 1) * BATCH), 'int32'), 10);
        const { value, grads } = tf.variableGrads(() => tf.losses.softmaxCrossEntropy(ys, model.apply(xs, { training: true })), vars);
        opt.step(new Map(Object.entries(grads).map(([k, g]) => [names.get(k), g])), LR);
        return value.dataSync()[0];
      }),
    );
  }
  const ms = (performance.now() - t0) / STEPS;
  const weights = [...model.params.values()].map((v) => v.dataSync().slice());
  opt.dispose();
  model.dispose();
  return { ms, losses, weights };
}

function compare(a, b) {
  let loss = 0;
  for (let i = 0; i < STEPS; i++) loss = Math.max(loss, Math.abs(a.losses[i] - b.losses[i]) / Math.abs(b.losses[i]));
  let num = 0;
  let den = 0;
  a.weights.forEach((w, t) => w.forEach((v, i) => ((num += (v - b.weights[t][i]) ** 2), (den += b.weights[t][i] ** 2))));
  return `max relative loss difference ${loss.toExponential(1)}, weights ${Math.sqrt(num / den).toExponential(1)}`;
}

export async function run(options = {}) {
  const log = options.log ?? (() => {});
  if (!compute.availableBackends().includes('wasm')) return [{ name: 'winograd drift', backend: 'wasm', ms: NaN, note: 'skipped: no wasm backend' }];
  await compute.initBackend('wasm');
  const host = batches();
  const saved = process.env.LTH_WINOGRAD;
  const previousTile = winograd.setWinogradTile(4);
  const runs = {};
  try {
    for (const [mode, tile, off] of [
      ['F(4x4)', 4, false],
      ['F(2x2)', 2, false],
      ['direct', 4, true],
    ]) {
      log(`wasm: conv2 ${STEPS} steps, ${mode}`);
      winograd.setWinogradTile(tile);
      if (off) process.env.LTH_WINOGRAD = '0';
      else delete process.env.LTH_WINOGRAD;
      runs[mode] = train(host);
    }
  } finally {
    winograd.setWinogradTile(previousTile);
    if (saved === undefined) delete process.env.LTH_WINOGRAD;
    else process.env.LTH_WINOGRAD = saved;
  }
  const at = (r) => [0, 49, 149].map((i) => r.losses[i].toFixed(4)).join(' / ');
  return [
    ...Object.entries(runs).map(([mode, r]) => ({
      name: `conv2 step, convolutions by ${mode}`,
      backend: 'wasm',
      ms: r.ms,
      runs: STEPS,
      note: `loss at steps 1 / 50 / 150: ${at(r)}`,
    })),
    { name: 'drift: F(4x4) vs direct', backend: 'wasm', ms: NaN, note: compare(runs['F(4x4)'], runs.direct) },
    { name: 'drift: F(2x2) vs direct', backend: 'wasm', ms: NaN, note: compare(runs['F(2x2)'], runs.direct) },
    { name: 'drift: F(4x4) vs F(2x2)', backend: 'wasm', ms: NaN, note: compare(runs['F(4x4)'], runs['F(2x2)']) },
  ];
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  for (const r of await run({ log: (m) => console.error(m) })) console.log(`${r.name}: ${Number.isFinite(r.ms) ? `${r.ms.toFixed(0)} ms, ` : ''}${r.note}`);
}
