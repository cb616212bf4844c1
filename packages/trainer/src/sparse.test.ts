import { createRng, initBackend, tf } from '@lth/compute';
import { syntheticDataset } from '@lth/data';
import { initWeights } from '@lth/models';
import { isPrunable, type MaskBundle, type WeightBundle } from '@lth/artifacts';
import { parseTrainConfig } from './config';
import { train } from './train';

// The root Jest config runs packages as projects, where a project's testTimeout is ignored.
jest.setTimeout(300000);

const LENET = { arch: 'lenet_300_100', options: {} };
const data = syntheticDataset({ seed: 3, shape: [28, 28, 1], train: 240, validation: 60, test: 60, noise: 60 });
const w0 = initWeights(LENET, 7);
const cfg = { iterations: 4, batchSize: 60, evalEvery: 100, evalBatchSize: 60, trainEvalExamples: 0 };

/** The paper's per-layer pruning rates after `round` rounds: fc layers 20% a round, the output 10%. */
function roundMask(bundle: WeightBundle, round: number): MaskBundle {
  const rng = createRng('test', round);
  return {
    meta: { content: 'mask', model: bundle.meta.model },
    tensors: bundle.tensors
      .filter((t) => isPrunable(t.role))
      .map((t) => {
        const keep = (t.role === 'output' ? 0.9 : 0.8) ** round;
        return { name: t.name, role: t.role, shape: t.shape, values: Uint8Array.from(t.values, () => (rng.next() < keep ? 1 : 0)) };
      }),
  };
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  let d = 0;
  a.forEach((v, i) => (d = Math.max(d, Math.abs(v - b[i]!))));
  return d;
}

describe('trainer config `sparse`', () => {
  it("defaults to 'auto' and names the field when it is wrong", () => {
    expect(parseTrainConfig({ iterations: 1 }).sparse).toBe('auto');
    expect(() => parseTrainConfig({ iterations: 1, sparse: 'always' })).toThrow(/^trainer\/train config: sparse: /);
  });
});

describe('training with sparse dense layers (wasm)', () => {
  beforeAll(async () => {
    await initBackend('wasm');
  });

  // Rounds 0, 3, 7, 12, 15: the paper's Pm 100%, 51%, 21%, 7% and 3.6% for LeNet-300-100.
  it.each([0, 3, 7, 12, 15])('trains to the same weights as dense products after round %i, pruned weights exactly 0', async (round) => {
    const mask = roundMask(w0, round);
    const logs: string[] = [];
    const tensors = tf.memory().numTensors;
    const sparse = await train({ weights: w0, data, mask }, { ...cfg, sparse: 'on' }, { log: (m) => logs.push(m) });
    expect(tf.memory().numTensors).toBe(tensors); // the mask indexes are released with the run
    const dense = await train({ weights: w0, data, mask }, { ...cfg, sparse: 'off' });
    expect(logs.find((l) => l.includes('sparse'))).toMatch(/^trainer: sparse products for fc1.weight \(\d+\.\d% kept\), fc2.weight .*, fc3.weight /);
    for (const t of sparse.weights.tensors) {
      const d = dense.weights.tensors.find((x) => x.name === t.name)!.values;
      expect(maxAbsDiff(t.values, d)).toBeLessThan(1e-5);
      const m = mask.tensors.find((x) => x.name === t.name);
      if (m) expect(t.values.every((v, i) => m.values[i] || Object.is(v, 0))).toBe(true);
    }
    expect(sparse.metrics.rows.map((r) => r.loss)).toEqual(dense.metrics.rows.map((r) => expect.closeTo(r.loss, 4)));
  });

  it("'auto' makes sparse only the layers at or below the measured density", async () => {
    const logs: string[] = [];
    await train({ weights: w0, data, mask: roundMask(w0, 12) }, { ...cfg, iterations: 1 }, { log: (m) => logs.push(m) });
    // fc1 and fc2 keep ~7%, the output layer ~28%.
    expect(logs.find((l) => l.includes('sparse'))).toMatch(/^trainer: sparse products for fc1.weight \(6\.\d% kept\), fc2.weight \(\d\.\d% kept\), fc3.weight/);
    const dense: string[] = [];
    await train({ weights: w0, data, mask: roundMask(w0, 3) }, { ...cfg, iterations: 1 }, { log: (m) => dense.push(m) });
    expect(dense.filter((l) => l.includes('sparse'))).toEqual([]);
  });
});

describe('training with sparse: on where there are no sparse kernels (cpu)', () => {
  beforeAll(async () => {
    await initBackend('cpu');
  });
  afterAll(async () => {
    await initBackend('wasm');
  });

  it('says so and trains with dense products: the same bytes as sparse: off', async () => {
    const mask = roundMask(w0, 12);
    const logs: string[] = [];
    const on = await train({ weights: w0, data, mask }, { ...cfg, iterations: 1, sparse: 'on' }, { log: (m) => logs.push(m) });
    const off = await train({ weights: w0, data, mask }, { ...cfg, iterations: 1, sparse: 'off' });
    expect(logs).toContain("trainer: sparse 'on', but backend 'cpu' has no sparse kernels (wasm with SIMD has): dense products");
    on.weights.tensors.forEach((t, i) => expect(Buffer.compare(Buffer.from(t.values.buffer), Buffer.from(off.weights.tensors[i]!.values.buffer))).toBe(0));
  });
});
