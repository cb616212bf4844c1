// Training-loop cost of @lth/trainer (issue 5), to size pipelines: LeNet-300-100 at the paper's
// batch 60 through the whole trainer step (batch preparation, forward, loss, gradients, masked
// Adam or SGD update with weight decay), in ms/step over 100 steps after 20 warm-up steps, and
// one evaluation pass over 10,000 images. Imports the built code: `npx tsc -b packages/trainer`.
// Run alone: node tools/bench/trainer.mjs
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const require = createRequire(import.meta.url);
const root = new URL('../../', import.meta.url).pathname;
const compute = require(join(root, 'packages/compute/dist/index.js'));
const data = require(join(root, 'packages/data/dist/index.js'));
const models = require(join(root, 'packages/models/dist/index.js'));
const trainer = require(join(root, 'packages/trainer/dist/index.js'));
const artifacts = require(join(root, 'packages/artifacts/dist/index.js'));

function halfMask(bundle) {
  const rng = compute.createRng('test', 1);
  return {
    meta: { content: 'mask', model: bundle.meta.model },
    tensors: bundle.tensors
      .filter((t) => artifacts.isPrunable(t.role))
      .map((t) => ({ name: t.name, role: t.role, shape: t.shape, values: Uint8Array.from(t.values, () => (rng.next() < 0.5 ? 1 : 0)) })),
  };
}

export async function run(opts = {}) {
  const { name: backend } = await compute.ensureBackend();
  const steps = opts.runs ?? 100;
  const ds = data.syntheticDataset({ seed: 0, shape: [28, 28, 1], train: 6000, validation: 60, test: 10000 });
  const w0 = models.initWeights({ arch: 'lenet_300_100', options: {} }, 0);
  const rows = [];
  const cases = [
    ['adam', { type: 'adam', lr: 1.2e-3 }, undefined],
    ['adam, 50% mask, weight decay 1e-4', { type: 'adam', lr: 1.2e-3 }, halfMask(w0)],
    ['sgd momentum 0.9', { type: 'sgd', lr: 0.1, momentum: 0.9 }, undefined],
  ];
  for (const [label, optimizer, mask] of cases) {
    const model = models.createModel(w0);
    // Evaluations happen only at 0 and at the end; timing.msPerStep times the training steps alone.
    const base = { batchSize: 60, evalEvery: 1e9, trainEvalExamples: 0, evalBatchSize: 1000, optimizer, weightDecay: mask ? 1e-4 : 0 };
    await trainer.trainModel(model, ds, trainer.parseTrainConfig({ ...base, iterations: 20 }), { mask });
    const r = await trainer.trainModel(model, ds, trainer.parseTrainConfig({ ...base, iterations: steps }), { mask });
    rows.push({ name: `lenet-300-100 trainer step, batch 60, ${label}`, backend, ms: r.timing.msPerStep, runs: steps });
    model.dispose();
  }
  const model = models.createModel(w0);
  const t0 = Date.now();
  trainer.evaluateSplit(model, ds, 'test', 1000);
  rows.push({ name: 'lenet-300-100 evaluation of 10,000 images (batch 1000)', backend, ms: Date.now() - t0, runs: 1 });
  model.dispose();
  const adam = rows[0].ms;
  rows.push({ name: 'lenet-300-100 50K iterations (paper), training only, in MINUTES', backend, ms: (adam * 50000) / 60000, note: 'estimate' });
  return rows;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const rows = await run();
  for (const r of rows) console.log(`${r.name.padEnd(64)} ${r.backend.padEnd(6)} ${r.ms.toFixed(2).padStart(9)} ${r.name.includes('MINUTES') ? 'min' : 'ms'}`);
}
