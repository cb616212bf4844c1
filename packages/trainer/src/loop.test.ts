import { initBackend } from '@lth/compute';
import { batchIterator, disposeBatch } from '@lth/data';
import { B, D, K, linearModel, toyData, W } from './__tests__/linear-model';
import { parseTrainConfig } from './config';
import { trainModel } from './train';

jest.setTimeout(60000);

beforeAll(async () => {
  await initBackend();
});

const data = toyData;

/** The gradient of mean softmax cross-entropy of a linear model, in float64 by hand. */
function handGradient(x: Float32Array, y: Int32Array) {
  const n = y.length;
  const gw = new Float64Array(D * K);
  const gb = new Float64Array(K);
  for (let r = 0; r < n; r++) {
    const z = [0, 1, 2].map((k) => {
      let s = B[k]!;
      for (let d = 0; d < D; d++) s += x[r * D + d]! * W[d * K + k]!;
      return s;
    });
    const mx = Math.max(...z);
    const e = z.map((v) => Math.exp(v - mx));
    const sum = e.reduce((a, c) => a + c, 0);
    for (let k = 0; k < K; k++) {
      const delta = (e[k]! / sum - (y[r] === k ? 1 : 0)) / n;
      gb[k]! += delta;
      for (let d = 0; d < D; d++) gw[d * K + k]! += x[r * D + d]! * delta;
    }
  }
  return { gw, gb };
}

describe('trainModel on any TrainableModel', () => {
  it('one SGD iteration equals the hand-computed gradient step on the first training batch', async () => {
    const first = batchIterator(data, 'train', { batchSize: 10, seed: 5 }).next().value!;
    const { gw, gb } = handGradient(first.x.dataSync() as Float32Array, first.y.dataSync() as Int32Array);
    disposeBatch(first);
    const model = linearModel(W, B, D, K);
    const cfg = parseTrainConfig({ iterations: 1, batchSize: 10, seed: 5, optimizer: { type: 'sgd', lr: 0.5 }, evalEvery: 1, trainEvalExamples: 0 });
    const r = await trainModel(model, data, cfg);
    const w1 = r.weights.tensors.find((t) => t.name === 'fc.weight')!.values;
    const b1 = r.weights.tensors.find((t) => t.name === 'fc.bias')!.values;
    w1.forEach((v, i) => expect(Math.abs(v - (W[i]! - 0.5 * gw[i]!))).toBeLessThan(1e-5));
    b1.forEach((v, i) => expect(Math.abs(v - (B[i]! - 0.5 * gb[i]!))).toBeLessThan(1e-5));
    expect(r.weights.meta.model.arch).toBe('linear');
    model.dispose();
  });

  it('wires the schedule: the first warmup step has lr 0, the next ones move the weights', async () => {
    const run = async (iterations: number) => {
      const model = linearModel(W, B, D, K);
      const cfg = parseTrainConfig({
        iterations,
        batchSize: 10,
        optimizer: { type: 'adam', lr: 0.1 },
        schedule: { type: 'constant', warmup: 4 },
        trainEvalExamples: 0,
      });
      const r = await trainModel(model, data, cfg);
      model.dispose();
      return r.weights.tensors[0]!.values;
    };
    expect(Array.from(await run(1))).toEqual(Array.from(W));
    // Adam's step 2 moves each weight by about lr * 1/4 (warmup factor at it = 1) in the sign of its gradient.
    // Exactly: |m_hat| / sqrt(v_hat) after two gradients is at most sqrt(a^2/c + b^2/d) with
    // m_hat = a g1 + b g2 (a = 0.09/0.19, b = 0.1/0.19) and v_hat = c g1^2 + d g2^2
    // (c = 0.000999/0.001999, d = 0.001/0.001999) by Cauchy-Schwarz: 1.001364.
    const bound = 0.025 * Math.sqrt((0.09 / 0.19) ** 2 / (0.000999 / 0.001999) + (0.1 / 0.19) ** 2 / (0.001 / 0.001999));
    const w2 = await run(2);
    const moved = Array.from(w2, (v, i) => Math.abs(v - W[i]!));
    expect(Math.max(...moved)).toBeLessThan(bound + 1e-6);
    expect(Math.max(...moved)).toBeGreaterThan(0.02);
  });

  it('warns when the training loss stops being finite', async () => {
    const model = linearModel(W, B, D, K);
    const logs: string[] = [];
    const cfg = parseTrainConfig({ iterations: 4, batchSize: 10, optimizer: { type: 'sgd', lr: 1e38 }, trainEvalExamples: 0 });
    await trainModel(model, data, cfg, { log: (m) => logs.push(m), progressEveryMs: 0 });
    expect(logs.filter((m) => /training diverged/.test(m))).toHaveLength(1);
    model.dispose();
  });
});
