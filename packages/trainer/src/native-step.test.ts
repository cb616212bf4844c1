import { existsSync } from 'node:fs';
import { NATIVE_ADDON, createRng, initBackend, setThreads, tf, useNativeBlas } from '@lth/compute';
import { syntheticDataset } from '@lth/data';
import { initWeights } from '@lth/models';
import { isPrunable, type MaskBundle, type WeightBundle } from '@lth/artifacts';
import { train, type TrainResult } from './train';

// The trainer's native step (native-step.ts, LTH_NATIVE_BLAS=1) against its tfjs step with the
// same native products: the same run within float rounding. Skips, saying so, without the addon.
jest.setTimeout(300000);

const built = existsSync(NATIVE_ADDON);
if (!built) console.warn(`native training step not tested: ${NATIVE_ADDON} is not built (npm run build:native -w @lth/compute)`);
const d = built ? describe : describe.skip;

const LENET = { arch: 'lenet_300_100', options: {} };
const data = syntheticDataset({ seed: 3, shape: [28, 28, 1], train: 240, validation: 60, test: 60, noise: 60 });
const w0 = initWeights(LENET, 7);

function halfMask(bundle: WeightBundle, keep = 0.5): MaskBundle {
  const rng = createRng('test', 'half');
  return {
    meta: { content: 'mask', model: bundle.meta.model },
    tensors: bundle.tensors
      .filter((t) => isPrunable(t.role))
      .map((t) => ({ name: t.name, role: t.role, shape: t.shape, values: Uint8Array.from(t.values, () => (rng.next() < keep ? 1 : 0)) })),
  };
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  let diff = 0;
  a.forEach((v, i) => (diff = Math.max(diff, Math.abs(v - b[i]!))));
  return diff;
}

/** A run with native products, with the native step or (LTH_NATIVE_STEP=0) tfjs' step. */
async function run(
  nativeStep: boolean,
  config: Record<string, unknown>,
  mask?: MaskBundle,
  inputs: { weights: WeightBundle; data: typeof data } = { weights: w0, data },
): Promise<{ result: TrainResult; logs: string[]; tensors: number[] }> {
  const logs: string[] = [];
  const tensors: number[] = [];
  if (nativeStep) delete process.env['LTH_NATIVE_STEP'];
  else process.env['LTH_NATIVE_STEP'] = '0';
  try {
    const result = await train({ ...inputs, mask }, config, { log: (m) => logs.push(m), onStep: () => tensors.push(tf.memory().numTensors) });
    return { result, logs, tensors };
  } finally {
    delete process.env['LTH_NATIVE_STEP'];
  }
}

const NATIVE_LOG = 'trainer: native training step (dense chain on OpenBLAS, LTH_NATIVE_BLAS=1)';
const NATIVE_CONV_LOG = 'trainer: native training step (conv net on OpenBLAS, LTH_NATIVE_BLAS=1)';
const CONV2 = { arch: 'conv2', options: { width: 8 } };
const cifarLike = syntheticDataset({ seed: 4, shape: [32, 32, 3], train: 120, validation: 30, test: 30, noise: 60 });

d('native training step (LTH_NATIVE_BLAS=1)', () => {
  beforeAll(async () => {
    await initBackend('wasm');
    useNativeBlas(true);
  });
  afterAll(() => useNativeBlas(undefined));

  it.each([
    ['Adam, half the weights pruned, weight decay', { type: 'adam', lr: 1.2e-3 }, 1e-4, true],
    ['SGD with Nesterov momentum', { type: 'sgd', lr: 0.05, momentum: 0.9, nesterov: true }, 0, false],
  ] as const)('%s: the tfjs step within float rounding, pruned weights exactly 0, no tensor leaked', async (_label, optimizer, weightDecay, masked) => {
    const mask = masked ? halfMask(w0) : undefined;
    const config = { iterations: 12, batchSize: 60, evalEvery: 6, evalBatchSize: 30, trainEvalExamples: 60, optimizer, weightDecay };
    const before = tf.memory().numTensors;
    const native = await run(true, config, mask);
    expect(tf.memory().numTensors).toBe(before);
    const reference = await run(false, config, mask);
    expect(native.logs).toContain(NATIVE_LOG);
    expect(reference.logs).not.toContain(NATIVE_LOG);
    // Flat across steps: every step leaves as many tensors as the first.
    expect(new Set(native.tensors).size).toBe(1);
    for (const t of native.result.weights.tensors) {
      const ref = reference.result.weights.tensors.find((x) => x.name === t.name)!.values;
      expect(maxAbsDiff(t.values, ref)).toBeLessThan(1e-4);
      const m = mask?.tensors.find((x) => x.name === t.name);
      if (m) m.values.forEach((keep, i) => keep === 0 && expect(Object.is(t.values[i], 0)).toBe(true));
    }
    // The evaluations (native forward passes) agree with the tfjs ones at every iteration.
    expect(native.result.metrics.rows.map((r) => [r.iteration, r.split])).toEqual(reference.result.metrics.rows.map((r) => [r.iteration, r.split]));
    native.result.metrics.rows.forEach((r, i) => {
      const ref = reference.result.metrics.rows[i]!;
      expect(Math.abs(r.loss - ref.loss)).toBeLessThan(1e-4 * Math.max(1, ref.loss));
      expect(r.accuracy).toBeCloseTo(ref.accuracy, 6);
    });
    expect(native.result.metrics.meta.backend).toBe('wasm+openblas');
  });

  it("sparse 'auto' keeps a 5%-kept LeNet dense for the native step (faster than the sparse kernels); 'on' still goes sparse", async () => {
    const config = { iterations: 2, batchSize: 60, evalEvery: 100, evalBatchSize: 60, trainEvalExamples: 0 };
    const auto = await run(true, config, halfMask(w0, 0.05));
    expect(auto.logs).toContain("trainer: sparse 'auto' keeps dense products: the native training step is faster than the sparse kernels");
    expect(auto.logs).toContain(NATIVE_LOG);
    expect(auto.logs.some((l) => l.startsWith('trainer: sparse products for'))).toBe(false);
    const reference = await run(false, config, halfMask(w0, 0.05));
    expect(reference.logs.some((l) => l.startsWith('trainer: sparse products for'))).toBe(true);
  });

  it('is not used with layers on the sparse kernels, nor with native products off', async () => {
    const config = { iterations: 2, batchSize: 60, evalEvery: 100, evalBatchSize: 60, trainEvalExamples: 0 };
    const sparse = await run(true, { ...config, sparse: 'on' }, halfMask(w0));
    expect(sparse.logs.some((l) => l.startsWith('trainer: sparse products for'))).toBe(true);
    expect(sparse.logs).not.toContain(NATIVE_LOG);
    useNativeBlas(false);
    try {
      const off = await run(true, config);
      expect(off.logs).not.toContain(NATIVE_LOG);
      expect(off.result.metrics.meta.backend).toBe('wasm');
    } finally {
      useNativeBlas(true);
    }
  });

  it('a whole training is byte-identical with 1 and 2 threads (the thread budget is in no cache key)', async () => {
    // Evaluation batches of 120 rows run as two halves, the 784x300 products in column halves.
    const config = { iterations: 4, batchSize: 60, evalEvery: 2, evalBatchSize: 120, trainEvalExamples: 60, optimizer: { type: 'adam', lr: 1.2e-3 } };
    const bytes = (r: TrainResult) => Buffer.concat(r.weights.tensors.map((t) => Buffer.from(t.values.buffer, t.values.byteOffset, t.values.byteLength)));
    try {
      setThreads(1);
      const one = await run(true, config, halfMask(w0));
      setThreads(2);
      const two = await run(true, config, halfMask(w0));
      expect(two.logs).toContain(NATIVE_LOG);
      expect(bytes(two.result).equals(bytes(one.result))).toBe(true);
      expect(two.result.metrics).toEqual(one.result.metrics);
    } finally {
      setThreads(undefined);
    }
  });

  it('Conv-2 (width 8), a third pruned: the native conv-net step is the tfjs step within float rounding; pruned weights exactly 0; no tensor leaked', async () => {
    const weights = initWeights(CONV2, 5);
    const mask = halfMask(weights, 2 / 3);
    // SGD: its update is linear in the gradient, so rounding differences stay rounding-sized
    // (Adam's first steps move a weight by ~lr whatever its gradient, amplifying them).
    const config = { iterations: 4, batchSize: 10, evalEvery: 2, evalBatchSize: 30, trainEvalExamples: 0, optimizer: { type: 'sgd', lr: 0.05, momentum: 0.9 } };
    const before = tf.memory().numTensors;
    const native = await run(true, config, mask, { weights, data: cifarLike });
    expect(tf.memory().numTensors).toBe(before);
    expect(native.logs).toContain(NATIVE_CONV_LOG);
    expect(new Set(native.tensors).size).toBe(1);
    const reference = await run(false, config, mask, { weights, data: cifarLike });
    expect(reference.logs).not.toContain(NATIVE_CONV_LOG);
    for (const t of native.result.weights.tensors) {
      const ref = reference.result.weights.tensors.find((x) => x.name === t.name)!.values;
      expect(maxAbsDiff(t.values, ref)).toBeLessThan(1e-4);
      const m = mask.tensors.find((x) => x.name === t.name);
      if (m) m.values.forEach((keep, i) => keep === 0 && expect(Object.is(t.values[i], 0)).toBe(true));
    }
    native.result.metrics.rows.forEach((r, i) => {
      const ref = reference.result.metrics.rows[i]!;
      expect(Math.abs(r.loss - ref.loss)).toBeLessThan(1e-4 * Math.max(1, ref.loss));
    });
  });

  it('Conv-2 with dropout keeps the tfjs step (the native step has no dropout)', async () => {
    const weights = initWeights({ arch: 'conv2', options: { width: 8, dropout: 0.5 } }, 5);
    const config = { iterations: 1, batchSize: 20, evalEvery: 100, evalBatchSize: 30, trainEvalExamples: 0 };
    const r = await run(true, config, undefined, { weights, data: cifarLike });
    expect(r.logs.some((l) => l.startsWith('trainer: native training step'))).toBe(false);
  });
});
