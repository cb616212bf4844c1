// The other kernels that training the model zoo needs (issue 2: "check the other kernels"), at
// Conv-2 / LeNet sizes with batch 60, forward + backward through tf.grads, on wasm (else the default).
// On wasm the kernels @lth/compute replaces (Tile in the batch-norm gradient, transposed
// matmuls in every dense layer's backward pass) are also timed with tfjs-backend-wasm's own.
// Imports the built code: run `npx tsc -b packages/compute` first. Run alone: node tools/bench/train-kernels.mjs
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { timeMedian as time } from '../bench-lib/timing.mjs';

const require = createRequire(import.meta.url);
const root = new URL('../../', import.meta.url).pathname;
const compute = require(join(root, 'packages/compute/dist/index.js'));
const { tf } = compute;

/** Forward + gradients of f w.r.t. all of `xs`, values read back; nothing returned from tidy. */
const fwdBwd = (f, xs) => () =>
  tf.tidy(
    () =>
      void tf
        .grads(f)(xs)
        .forEach((g) => g.dataSync()),
  );

export async function run(options = {}) {
  // These are wasm findings: measure on wasm whenever it is there, whatever ran before.
  const backend = compute.availableBackends().includes('wasm') ? 'wasm' : (await compute.ensureBackend()).name;
  return compute.withBackend(backend, () => measure(backend, options));
}

function measure(backend, options) {
  const runs = options.runs ?? 5;
  const rng = compute.createRng('test', 'bench/train-kernels');
  const randn = (shape) => tf.tensor(rng.fillNormal(new Float32Array(shape.reduce((a, b) => a * b, 1)), 1), shape);
  const act = randn([60, 32, 32, 64]);
  const small = randn([60, 8, 8, 64]);
  const gamma = tf.ones([64]),
    beta = tf.zeros([64]);
  const fcIn = randn([60, 4096]),
    fcW = randn([4096, 256]);
  const lenetIn = randn([60, 784]),
    lenetW = randn([784, 300]);
  const logits = randn([60, 10]);
  const labels = tf.oneHot(
    tf.tensor1d(
      Array.from({ length: 60 }, (_, i) => i % 10),
      'int32',
    ),
    10,
  );
  const cases = [
    ['elementwise add (reference), [60,32,32,64]', () => tf.tidy(() => void tf.add(act, 1).dataSync())],
    ['relu fwd+grad, [60,32,32,64]', fwdBwd((a) => tf.relu(a), [act])],
    ['maxPool 2x2 fwd+grad (MaxPoolGrad), [60,32,32,64]', fwdBwd((a) => tf.maxPool(a, 2, 2, 'valid'), [act])],
    ['avgPool 2x2 fwd+grad (AvgPoolGrad), [60,32,32,64]', fwdBwd((a) => tf.avgPool(a, 2, 2, 'valid'), [act])],
    ['global mean fwd+grad, [60,8,8,64]', fwdBwd((a) => tf.mean(a, [1, 2]), [small])],
    [
      'batch norm (batch stats) fwd+grad, [60,32,32,64]',
      fwdBwd(
        (a, g, b) => {
          const m = tf.moments(a, [0, 1, 2]);
          return tf.batchNorm(a, m.mean, m.variance, b, g, 1e-3);
        },
        [act, gamma, beta],
      ),
    ],
    ['dense 60x4096 -> 256 fwd+grad (matmul, transposes)', fwdBwd((x, w) => tf.matMul(x, w), [fcIn, fcW])],
    ['dense 60x784 -> 300 fwd+grad', fwdBwd((x, w) => tf.matMul(x, w), [lenetIn, lenetW])],
    ['softmax cross-entropy fwd+grad, [60,10]', fwdBwd((l) => tf.losses.softmaxCrossEntropy(labels, l), [logits])],
  ];
  const rows = [];
  const ours = {};
  for (const [name, fn] of cases) rows.push({ name, backend, ms: (ours[name] = time(fn, runs)), runs });
  if (backend === 'wasm') {
    const replaced = cases.filter(([n]) => /batch norm|dense 60x4096/.test(n));
    compute.unregisterWasmKernels();
    try {
      for (const [name, fn] of replaced) {
        const ms = time(fn, Math.min(runs, 3));
        rows.push({
          name: `${name}, tfjs-backend-wasm's own kernels`,
          backend,
          ms,
          runs: Math.min(runs, 3),
          note: `${(ms / ours[name]).toFixed(1)}x slower than ours`,
        });
      }
    } finally {
      compute.registerWasmKernels();
    }
  }
  tf.dispose([act, small, gamma, beta, fcIn, fcW, lenetIn, lenetW, logits, labels]);
  return rows;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const rows = await run();
  for (const r of rows) console.log(`${r.name.padEnd(70)} ${r.backend.padEnd(6)} ${r.ms.toFixed(1).padStart(9)} ms  ${r.note ?? ''}`);
}
