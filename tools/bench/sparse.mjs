// Sparse late rounds (issue 18): the LeNet-300-100 training step (batch 60, Adam, masked) as
// @lth/trainer runs it, at the paper's Pm 100%, 51%, 21%, 7% and 3.6%, with dense products of
// the masked weights (`sparse: off`) and with @lth/compute's sparse kernels for every masked
// dense layer (`sparse: on`); the note says which layers `sparse: auto` (the default) makes
// sparse. The masks are random at the per-layer rates of iterative pruning (fc layers 20% per
// round, the output layer 10%): rounds 0, 3, 7, 12, 15. Last row: the step at Pm 7% with
// `auto` over the dense step at Pm 100% (goal: at most 0.4x).
// Wall ms per step is timing.msPerStep over `runs` steps (after 20 warm-up steps); the note
// also gives the process CPU ms per step, the steadier figure on a shared machine.
// Imports the built code: `npx tsc -b packages/trainer`. Run alone: node tools/bench/sparse.mjs [--runs N]
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

const REF = { arch: 'lenet_300_100', options: {} };
const ROUNDS = [0, 3, 7, 12, 15];
const WARMUP = 20;

/** A random mask keeping exactly round(rate * size) weights of every prunable tensor. */
function roundMask(bundle, round) {
  const rng = compute.createRng('test', 1, 'round', round);
  return {
    meta: { content: 'mask', model: bundle.meta.model },
    tensors: bundle.tensors
      .filter((t) => artifacts.isPrunable(t.role))
      .map((t) => {
        const rate = (t.role === 'output' ? 0.9 : 0.8) ** round;
        const values = new Uint8Array(t.values.length);
        for (const i of rng.permutation(values.length).slice(0, Math.round(rate * values.length))) values[i] = 1;
        return { name: t.name, role: t.role, shape: t.shape, values };
      }),
  };
}

function keptFraction(mask) {
  let kept = 0;
  let total = 0;
  for (const t of mask.tensors) {
    total += t.values.length;
    for (const v of t.values) kept += v;
  }
  return kept / total;
}

/** ms per step (wall, from the trainer) and CPU ms per step (this process) of `steps` Adam steps. */
async function stepTime(w0, ds, mask, sparse, steps) {
  const model = models.createModel(w0);
  const base = { batchSize: 60, evalEvery: 1e9, trainEvalExamples: 0, evalBatchSize: 1000, optimizer: { type: 'adam', lr: 1.2e-3 }, sparse };
  const logs = [];
  try {
    await trainer.trainModel(model, ds, trainer.parseTrainConfig({ ...base, iterations: WARMUP }), { mask, log: (m) => logs.push(m) });
    let cpu = 0;
    let t = process.cpuUsage();
    const onStep = () => {
      const d = process.cpuUsage(t);
      cpu += (d.user + d.system) / 1000;
    };
    const r = await trainer.trainModel(model, ds, trainer.parseTrainConfig({ ...base, iterations: steps }), {
      mask,
      log: (m) => logs.push(m),
      // CPU time from one step's end to the next (a step's own work; evaluations only at 0 and the end).
      onStep: (it) => {
        if (it > 1) onStep();
        t = process.cpuUsage();
      },
    });
    return { ms: r.timing.msPerStep, cpu: cpu / Math.max(1, steps - 1), sparseLog: logs.find((l) => l.includes('sparse')) };
  } finally {
    model.dispose();
  }
}

export async function run(opts = {}) {
  const { name: backend } = await compute.ensureBackend();
  const log = opts.log ?? (() => {});
  const steps = opts.runs ?? 100;
  const ds = data.syntheticDataset({ seed: 0, shape: [28, 28, 1], train: 6000, validation: 60, test: 60 });
  const w0 = models.initWeights(REF, 0);
  const rows = [];
  let dense;
  let sparse7;
  for (const round of ROUNDS) {
    const mask = roundMask(w0, round);
    const pm = keptFraction(mask) * 100;
    const layers = mask.tensors.map((t) => `${t.name.split('.')[0]} ${((t.values.reduce((a, v) => a + v, 0) / t.values.length) * 100).toFixed(1)}%`).join(', ');
    for (const mode of ['off', 'on', 'auto']) {
      log(`${backend}: Pm ${pm.toFixed(1)}% sparse ${mode}`);
      const r = await stepTime(w0, ds, mask, mode, steps);
      if (round === 0 && mode === 'off') dense = r;
      if (round === 12 && mode === 'auto') sparse7 = r;
      const what = mode === 'auto' ? (r.sparseLog ? r.sparseLog.replace('trainer: sparse products for ', 'sparse: ') : 'all dense') : layers;
      rows.push({
        name: `lenet-300-100 step, Pm ${pm.toFixed(1)}%, sparse ${mode}`,
        backend,
        ms: r.ms,
        runs: steps,
        note: `cpu ${r.cpu.toFixed(2)} ms; ${what}`,
      });
    }
  }
  rows.push({
    name: 'lenet-300-100 step at Pm 6.9% (auto) / dense step at Pm 100%, RATIO',
    backend,
    ms: sparse7.ms / dense.ms,
    note: `goal <= 0.4; cpu time ratio ${(sparse7.cpu / dense.cpu).toFixed(2)}`,
  });
  return rows;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const i = process.argv.indexOf('--runs');
  const rows = await run({ runs: i > 0 ? Number(process.argv[i + 1]) : undefined, log: (m) => process.stderr.write(`${m}\n`) });
  for (const r of rows)
    console.log(`${r.name.padEnd(66)} ${r.backend.padEnd(5)} ${r.ms.toFixed(r.name.includes('RATIO') ? 2 : 2).padStart(7)}  ${r.note ?? ''}`);
}
