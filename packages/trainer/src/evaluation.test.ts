import { initBackend, tf } from '@lth/compute';
import { syntheticDataset } from '@lth/data';
import { createModel, initWeights } from '@lth/models';
import { parseTrainConfig } from './config';
import { EvalData } from './eval-data';
import { trainModel } from './train';

// The root Jest config runs packages as projects, where a project's testTimeout is ignored.
jest.setTimeout(60000);

beforeAll(async () => {
  await initBackend();
});

const LENET = { arch: 'lenet_300_100', options: {} };
const data = syntheticDataset({ seed: 5, shape: [28, 28, 1], train: 240, validation: 60, test: 90, noise: 60 });
const w0 = initWeights(LENET, 11);
const base = { iterations: 30, batchSize: 20, evalEvery: 5, evalBatchSize: 32, trainEvalExamples: 50 };

async function run(cfg: object, opts: Parameters<typeof trainModel>[3] = {}) {
  const model = createModel(w0);
  try {
    return await trainModel(model, data, parseTrainConfig({ ...base, ...cfg }), opts);
  } finally {
    model.dispose();
  }
}

describe('EvalData (evaluation batches kept on the device)', () => {
  const imageBytes = 28 * 28 * 4 + 4;

  it('keeps a split after its first full pass and hands the same tensors out again', () => {
    const before = tf.memory().numTensors;
    const cache = new EvalData(data, 32, 1e9);
    const first = cache.source('test');
    expect(first.owned).toBe(false);
    const made = [...first.batches];
    expect(made.map((b) => b.y.shape[0])).toEqual([32, 32, 26]);
    expect(cache.keptBytes()).toBe(90 * imageBytes);
    const makingMs = cache.makingMs; // the time making them, for the trainer's batchesMs
    expect(makingMs).toBeGreaterThan(0);
    const again = cache.source('test');
    expect(again.owned).toBe(false);
    expect([...again.batches]).toEqual(made);
    expect(cache.makingMs).toBe(makingMs); // kept: nothing made again
    // A different limit of the same split is a different set.
    expect(cache.source('train', 50).batches).not.toBe(again.batches);
    cache.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('streams a split that does not fit the remaining budget (the caller disposes)', () => {
    const cache = new EvalData(data, 32, 100 * imageBytes);
    expect(cache.bytesOf('test')).toBe(90 * imageBytes);
    for (const _ of cache.source('test').batches);
    const validation = cache.source('validation'); // 60 more do not fit in the 10 left
    expect(validation.owned).toBe(true);
    for (const b of validation.batches) tf.dispose([b.x, b.y]);
    expect(cache.keptBytes()).toBe(90 * imageBytes);
    expect(new EvalData(data, 32, 0).source('test').owned).toBe(true);
    expect(() => new EvalData(data, 32, Number.NaN)).toThrow(/budget must be a non-negative number of bytes, got NaN/);
    cache.dispose();
  });

  it('releases the batches of a pass abandoned part way, and makes them again next time', () => {
    const before = tf.memory().numTensors;
    const cache = new EvalData(data, 32, 1e9);
    const it = cache.source('test').batches[Symbol.iterator]();
    it.next();
    it.next();
    it.return?.();
    expect(tf.memory().numTensors).toBe(before);
    expect(cache.keptBytes()).toBe(0);
    expect([...cache.source('test').batches]).toHaveLength(3);
    expect(cache.keptBytes()).toBe(90 * imageBytes);
    cache.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('trainModel evaluations', () => {
  it('give the same metrics with the batches kept on the device as streamed each time', async () => {
    const kept = await run({});
    const streamed = await run({}, { evalCacheBytes: 0 });
    expect(kept.metrics.rows).toEqual(streamed.metrics.rows);
    expect(kept.metrics.rows).toHaveLength(7 * 3);
    expect(kept.metrics.meta.earlyStop).toEqual(streamed.metrics.meta.earlyStop);
  });

  it('keep tf.memory().numTensors flat across iterations, in both test modes, and release everything after training and after an abort', async () => {
    for (const test of ['every', 'early-stop-only'] as const) {
      const before = tf.memory().numTensors;
      const counts: number[] = [];
      await run({ evaluate: { test } }, { onStep: (it) => (it < base.iterations ? counts.push(tf.memory().numTensors) : undefined) });
      expect(counts).toHaveLength(base.iterations - 1);
      expect(new Set(counts).size).toBe(1);
      expect(tf.memory().numTensors).toBe(before);

      const ac = new AbortController();
      await expect(
        run({ evaluate: { test }, iterations: 1000 }, { signal: ac.signal, onStep: (it) => (it === 17 ? ac.abort() : undefined) }),
      ).rejects.toMatchObject({
        name: 'AbortError',
      });
      expect(tf.memory().numTensors).toBe(before);
    }
  });

  it("with evaluate.test 'early-stop-only' test once, on the early-stop weights, with the same result as 'every'", async () => {
    // A high learning rate, so the validation loss has its minimum before the end.
    const optimizer = { type: 'adam', lr: 0.03 };
    const every = await run({ optimizer });
    const once = await run({ optimizer, evaluate: { test: 'early-stop-only' } });
    const stop = every.metrics.meta.earlyStop!;
    expect(stop).toBeDefined();
    // Before the end, so that the test really runs on a copy and not on the last weights.
    expect(stop.iteration).toBeLessThan(base.iterations);
    expect(once.metrics.meta.earlyStop).toEqual(stop);
    const tests = once.metrics.rows.filter((r) => r.split === 'test');
    expect(tests).toEqual(every.metrics.rows.filter((r) => r.split === 'test' && r.iteration === stop.iteration));
    // Every other row is as before, in iteration order, the test row beside its iteration's.
    expect(once.metrics.rows.filter((r) => r.split !== 'test')).toEqual(every.metrics.rows.filter((r) => r.split !== 'test'));
    const its = once.metrics.rows.map((r) => r.iteration);
    expect([...its].sort((a, b) => a - b)).toEqual(its);
    // The final weights are the last ones, not the early-stop copy.
    expect(once.weights).toEqual(every.weights);
  });

  it("with 'early-stop-only' and no validation split, test the last weights", async () => {
    const noValidation = syntheticDataset({ seed: 5, shape: [28, 28, 1], train: 240, validation: 0, test: 40 });
    const model = createModel(w0);
    const r = await trainModel(model, noValidation, parseTrainConfig({ ...base, iterations: 10, evaluate: { test: 'early-stop-only' } }));
    model.dispose();
    expect(r.metrics.rows.filter((x) => x.split === 'test').map((x) => x.iteration)).toEqual([10]);
    expect(r.metrics.rows.some((x) => x.split === 'validation')).toBe(false);
  });

  it('rejects an unknown evaluate.test choice, naming the field', () => {
    expect(() => parseTrainConfig({ iterations: 1, evaluate: { test: 'sometimes' } })).toThrow(/evaluate\.test/);
    expect(() => parseTrainConfig({ iterations: 1, evaluate: { tests: 'every' } })).toThrow(/evaluate/);
    expect(parseTrainConfig({ iterations: 1 }).evaluate).toEqual({ test: 'every' });
  });
});
