// The Conv-2 layer of the paper's conv nets (3x3, 64->64, 'same', batch 60, 32x32): forward,
// input-gradient and filter-gradient time on every available backend (issue 2), and on wasm also
// tfjs-backend-wasm's own naive Conv2DBackpropInput, to show what our kernels replace.
// Imports the built code: run `npx tsc -b packages/compute` first. Run alone: node tools/bench/conv.mjs
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { timeMedian as time } from '../bench-lib/timing.mjs';

const require = createRequire(import.meta.url);
const root = new URL('../../', import.meta.url).pathname;
const compute = require(join(root, 'packages/compute/dist/index.js'));
const { tf } = compute;

const SHAPE = { batch: 60, size: 32, cin: 64, cout: 64, k: 3 };
const ATTRS = { strides: [1, 1], pad: 'same', dataFormat: 'NHWC', dimRoundingMode: undefined };

/** Runs a kernel and waits for its values; nothing is returned from tidy (it would walk them). */
const op = (f) => () => tf.tidy(() => void f().dataSync());

export async function run(options = {}) {
  const log = options.log ?? (() => {});
  const rows = [];
  const { batch, size, cin, cout, k } = SHAPE;
  const layer = `${k}x${k} ${cin}->${cout}, batch ${batch}, ${size}x${size}`;
  const byBackend = {};
  for (const backend of compute.availableBackends()) {
    // The pure-JS cpu backend takes seconds per call (its filter gradient ~8 minutes: 49 s
    // measured at batch 6): fewer runs, no warm-up, and that one estimated unless --slow.
    const slow = backend === 'cpu';
    const runs = options.runs ?? (slow ? 1 : 7);
    const warmup = slow ? 0 : 2;
    await compute.withBackend(backend, () => {
      const rng = compute.createRng('test', 'bench/conv');
      const randn = (shape) => tf.tensor(rng.fillNormal(new Float32Array(shape.reduce((a, b) => a * b, 1)), 1), shape);
      const x = randn([batch, size, size, cin]);
      const w = randn([k, k, cin, cout]);
      const dy = randn([batch, size, size, cout]);
      const fwd = op(() => tf.conv2d(x, w, 1, 'same'));
      const dInput = op(() => tf.engine().runKernel('Conv2DBackpropInput', { dy, filter: w }, { ...ATTRS, inputShape: x.shape }));
      const dFilter = op(() => tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { ...ATTRS, filterShape: w.shape }));
      const t = {};
      log(`${backend}: forward`);
      t.forward = time(fwd, runs, warmup);
      log(`${backend}: input gradient`);
      t.input = time(dInput, runs, warmup);
      if (slow && !options.slow) {
        // Estimated from a batch of 3 (the kernel's time is linear in the batch), ~25 s.
        log(`${backend}: filter gradient at batch 3 (x${batch / 3} = estimate)`);
        const x3 = randn([3, size, size, cin]);
        const dy3 = randn([3, size, size, cout]);
        t.filter =
          (batch / 3) *
          time(
            op(() => tf.engine().runKernel('Conv2DBackpropFilter', { x: x3, dy: dy3 }, { ...ATTRS, filterShape: w.shape })),
            1,
            0,
          );
        t.filterEstimated = true;
        tf.dispose([x3, dy3]);
      } else {
        log(`${backend}: filter gradient`);
        t.filter = time(dFilter, runs, warmup);
      }
      if (backend === 'wasm') {
        compute.unregisterWasmKernels();
        try {
          log('wasm: naive built-in input gradient');
          t.naiveInput = time(dInput, options.runs ?? 3, 1);
        } finally {
          compute.registerWasmKernels();
        }
      }
      tf.dispose([x, w, dy]);
      byBackend[backend] = { t, runs };
    });
  }
  for (const [backend, { t, runs }] of Object.entries(byBackend)) {
    const cpu = byBackend.cpu?.t;
    const vsCpu = (ms, ref) => (Number.isFinite(ref) && backend !== 'cpu' ? `${(ref / ms).toFixed(1)}x faster than cpu` : '');
    rows.push({ name: `conv2 forward (${layer})`, backend, ms: t.forward, runs, note: vsCpu(t.forward, cpu?.forward) });
    const naive = t.naiveInput ? `${(t.naiveInput / t.input).toFixed(1)}x faster than wasm naive` : '';
    rows.push({
      name: 'conv2 input gradient (Conv2DBackpropInput)',
      backend,
      ms: t.input,
      runs,
      note: [naive, vsCpu(t.input, cpu?.input)].filter(Boolean).join('; '),
    });
    rows.push({
      name: 'conv2 filter gradient (Conv2DBackpropFilter)',
      backend,
      ms: t.filter,
      runs,
      note: [
        t.filterEstimated ? 'estimate: batch 3 x 20 (--slow measures batch 60)' : '',
        backend === 'wasm' ? 'tfjs-backend-wasm has none' : '',
        vsCpu(t.filter, cpu?.filter),
      ]
        .filter(Boolean)
        .join('; '),
    });
    if (t.naiveInput)
      rows.push({
        name: 'conv2 input gradient, tfjs-backend-wasm naive kernel',
        backend,
        ms: t.naiveInput,
        runs: options.runs ?? 3,
        note: 'the kernel we replace',
      });
  }
  return rows;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const rows = await run({ slow: process.argv.includes('--slow'), log: (m) => process.stderr.write(`${m}\n`) });
  for (const r of rows) console.log(`${r.name.padEnd(52)} ${r.backend.padEnd(6)} ${r.ms.toFixed(1).padStart(9)} ms  ${r.note ?? ''}`);
}
