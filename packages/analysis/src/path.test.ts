import { splitView } from '@lth/artifacts';
import { initBackend, tf } from '@lth/compute';
import { syntheticDataset } from '@lth/data';
import { disposeModel, linearPathModel } from './__tests__/linear';
import { alphaGrid, evaluatePath, instabilityOf, type PathPoint } from './path';

beforeAll(async () => {
  await initBackend();
});

const D = 4;
const K = 3;
const data = syntheticDataset({ seed: 3, shape: [2, 2, 1], classes: K, train: 30, validation: 9, test: 60 });
const zeros = new Float32Array(D * K);
const endpoint = (bias: number[], weight: Float32Array = zeros) =>
  new Map([
    ['fc.weight', weight],
    ['fc.bias', Float32Array.from(bias)],
  ]);
const opts = { splits: ['test'] as const, evalBatchSize: 7 };

describe('alphaGrid', () => {
  it('spaces N points evenly over [0, 1] with exact ends', () => {
    expect(alphaGrid(2)).toEqual([0, 1]);
    expect(alphaGrid(5)).toEqual([0, 0.25, 0.5, 0.75, 1]);
    const g = alphaGrid(30);
    expect(g).toHaveLength(30);
    expect(g[0]).toBe(0);
    expect(g[29]).toBe(1);
    for (let i = 1; i < g.length; i++) expect((g[i] as number) - (g[i - 1] as number)).toBeCloseTo(1 / 29, 12);
    expect(() => alphaGrid(1)).toThrow(/points must be an integer >= 2/);
  });
});

describe('the linear path between two networks', () => {
  it('a hand-computed path: a bias-only classifier that predicts class 0, then 1, then 2', async () => {
    // Weights 0, so logits = bias = (2, 1.5, 0) + alpha (-2, 0, 2) for every example: class 0
    // wins for alpha < 0.25, class 1 for 0.25 < alpha < 0.75, class 2 above; the error is the
    // fraction of test labels that are not the predicted class, the loss the mean of
    // logsumexp(bias) - bias[label].
    const labels = Array.from(splitView(data, 'test').labels);
    const share = [0, 1, 2].map((c) => labels.filter((l) => l === c).length / labels.length);
    expect(share.every((s) => s > 0.1)).toBe(true);
    const model = linearPathModel(D, K);
    const alphas = alphaGrid(11);
    const points = await evaluatePath(model, endpoint([2, 1.5, 0]), endpoint([0, 1.5, 2]), data, { ...opts, alphas });
    disposeModel(model);
    for (const p of points) {
      const bias = [2 - 2 * p.alpha, 1.5, 2 * p.alpha];
      const predicted = p.alpha < 0.25 ? 0 : p.alpha < 0.75 ? 1 : 2;
      expect(p.error).toBeCloseTo(1 - (share[predicted] as number), 6);
      const lse = Math.log(bias.reduce((s, b) => s + Math.exp(b), 0));
      const loss = labels.reduce((s, l) => s + lse - (bias[l] as number), 0) / labels.length;
      expect(p.loss).toBeCloseTo(loss, 5);
      expect(p.count).toBe(60);
    }
    const [s] = instabilityOf(points);
    const errors = [0, 1, 2].map((c) => 1 - (share[c] as number));
    expect(s?.errorA).toBeCloseTo(errors[0] as number, 6);
    expect(s?.errorB).toBeCloseTo(errors[2] as number, 6);
    expect(s?.instability).toBeCloseTo(Math.max(...errors) - ((errors[0] as number) + (errors[2] as number)) / 2, 6);
  });

  it('two identical networks: a flat path and an instability of exactly 0', async () => {
    const w = Float32Array.from({ length: D * K }, (_, i) => Math.sin(i + 1) * 0.01);
    const model = linearPathModel(D, K);
    const points = await evaluatePath(model, endpoint([0.3, -0.1, 0.2], w), endpoint([0.3, -0.1, 0.2], w), data, {
      ...opts,
      alphas: alphaGrid(7),
      splits: ['test', 'train'],
    });
    disposeModel(model);
    for (const split of ['test', 'train']) {
      const ps = points.filter((p) => p.split === split);
      expect(ps).toHaveLength(7);
      expect(new Set(ps.map((p) => p.loss)).size).toBe(1);
      expect(new Set(ps.map((p) => p.error)).size).toBe(1);
    }
    for (const s of instabilityOf(points)) {
      expect(s.instability).toBe(0);
      expect(s.lossBarrier).toBe(0);
    }
  });

  it('applies the mask at every point: pruned weights are 0 all along the path', async () => {
    const a = Float32Array.from({ length: D * K }, (_, i) => i + 1);
    const b = Float32Array.from({ length: D * K }, (_, i) => -(i + 1) * 2);
    const mask = Float32Array.from({ length: D * K }, (_, i) => (i % 3 === 0 ? 0 : 1));
    const model = linearPathModel(D, K);
    const seen: Float32Array[] = [];
    const alphas = alphaGrid(5);
    await evaluatePath(model, endpoint([0, 0, 0], a), endpoint([0, 0, 0], b), data, {
      ...opts,
      alphas,
      mask: new Map([['fc.weight', mask]]),
      onPoint: () => seen.push(Float32Array.from(model.params.get('fc.weight')?.dataSync() as Float32Array)),
    });
    disposeModel(model);
    seen.forEach((w, j) => {
      const alpha = alphas[j] as number;
      w.forEach((v, i) => expect(v).toBeCloseTo(mask[i] ? (1 - alpha) * (a[i] as number) + alpha * (b[i] as number) : 0, 5));
    });
    // The ends are exactly the endpoints (masked).
    expect(Array.from(seen[0] as Float32Array)).toEqual(Array.from(a).map((v, i) => (mask[i] ? v : 0)));
    expect(Array.from(seen[4] as Float32Array)).toEqual(Array.from(b).map((v, i) => (mask[i] ? v : 0)));
  });

  it('keeps tf.memory().numTensors flat across path evaluations', async () => {
    const model = linearPathModel(D, K);
    const before = tf.memory().numTensors;
    const counts: number[] = [];
    for (let run = 0; run < 2; run++) {
      await evaluatePath(model, endpoint([1, 0, 0]), endpoint([0, 0, 1]), data, {
        ...opts,
        alphas: alphaGrid(6),
        splits: ['test', 'validation'],
        mask: new Map([['fc.weight', new Float32Array(D * K).fill(1)]]),
        onPoint: () => counts.push(tf.memory().numTensors),
      });
    }
    expect(tf.memory().numTensors).toBe(before);
    // Per point: the held endpoints (a, b, b - a, mask) for each tensor, nothing that grows.
    expect(new Set(counts).size).toBe(1);
    disposeModel(model);
  });

  it('names what is wrong with the endpoints', async () => {
    const model = linearPathModel(D, K);
    const run = (a: Map<string, Float32Array>, b: Map<string, Float32Array>, mask?: Map<string, Float32Array>) =>
      evaluatePath(model, a, b, data, { ...opts, alphas: [0, 1], mask });
    await expect(run(new Map([['fc.weight', zeros]]), endpoint([0, 0, 0]))).rejects.toThrow("endpoint A has no tensor 'fc.bias'");
    await expect(run(endpoint([0, 0, 0]), endpoint([0, 0]))).rejects.toThrow("endpoint B tensor 'fc.bias' has 2 values, the model 3");
    await expect(run(endpoint([0, 0, 0]), endpoint([0, 0, 0]), new Map([['fc2.weight', zeros]]))).rejects.toThrow(
      "mask tensor 'fc2.weight' names no parameter",
    );
    disposeModel(model);
  });

  it('instabilityOf needs both ends of the path', () => {
    const p = (alpha: number, error: number): PathPoint => ({ alpha, split: 'test', loss: error, error, count: 1 });
    expect(() => instabilityOf([p(0, 0.1), p(0.5, 0.3)])).toThrow(/does not include both ends/);
    // The max error, its alpha (the first on ties) and max - mean of the ends.
    expect(instabilityOf([p(1, 0.2), p(0, 0.1), p(0.25, 0.4), p(0.5, 0.4)])[0]).toEqual({
      split: 'test',
      errorA: 0.1,
      errorB: 0.2,
      maxError: 0.4,
      maxAlpha: 0.25,
      instability: 0.4 - 0.15000000000000002,
      lossBarrier: 0.4 - 0.15000000000000002,
    });
  });
});
