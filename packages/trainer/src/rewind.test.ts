import { initBackend } from '@lth/compute';
import { syntheticDataset } from '@lth/data';
import { initWeights } from '@lth/models';
import { B, D, K, linearModel, toyData, W } from './__tests__/linear-model';
import { parseTrainConfig } from './config';
import { train, trainModel } from './train';

// A network rewound to w_k trains from k to T: the schedule position of k, the batches an
// uninterrupted run draws from k on, metrics on the dense run's iteration axis.
jest.setTimeout(60000);

beforeAll(async () => {
  await initBackend();
});

const data = toyData;
// SGD without momentum: the optimizer has no state, so the weights after a step depend only on
// the weights, the batch and the learning rate.
const sgd = { iterations: 8, batchSize: 10, seed: 5, optimizer: { type: 'sgd', lr: 0.5 }, trainEvalExamples: 0, evalEvery: 2 } as const;
const schedule = { type: 'piecewise', milestones: [4, 6], gamma: 0.1, warmup: 2 } as const;

describe('training from a rewind point k to T', () => {
  it('uses the learning rates of iterations k..T-1 of the schedule (hand-checked)', async () => {
    // lr(it) = 0.5 * 0.1^(#milestones <= it) * min(1, it / 2): from k = 3, warmup is over and
    // the drops come at the absolute iterations 4 and 6.
    const model = linearModel(W, B, D, K);
    const lrs: [number, number][] = [];
    const r = await trainModel(model, data, parseTrainConfig({ ...sgd, schedule }), { weightsIteration: 3, onStep: (it, s) => lrs.push([it, s.lr]) });
    model.dispose();
    expect(lrs.map(([it]) => it)).toEqual([4, 5, 6, 7, 8]);
    const expected = [0.5, 0.05, 0.05, 0.005, 0.005];
    lrs.forEach(([, lr], i) => expect(lr).toBeCloseTo(expected[i] as number, 12));
    // Evaluations at the start, every multiple of evalEvery on the absolute axis, and at T.
    expect([...new Set(r.metrics.rows.map((row) => row.iteration))]).toEqual([3, 4, 6, 8]);
    expect(r.metrics.meta).toMatchObject({ iterations: 8, startIteration: 3 });
    expect([3, 4, 6, 8]).toContain(r.metrics.meta.earlyStop?.iteration);
    expect(r.weights.meta.iteration).toBe(8);
  });

  it('from w_k reaches exactly the weights of the uninterrupted run (same batches, same schedule)', async () => {
    const cfg = parseTrainConfig({ ...sgd, schedule, checkpoints: [3] });
    const full = linearModel(W, B, D, K);
    const whole = await trainModel(full, data, cfg);
    full.dispose();
    const wk = whole.checkpoints.tensors;
    const at = (name: string) => wk.find((t) => t.name === `3/${name}`)?.values as Float32Array;
    const resumed = linearModel(at('fc.weight'), at('fc.bias'), D, K);
    const rest = await trainModel(resumed, data, parseTrainConfig({ ...sgd, schedule }), { weightsIteration: 3 });
    resumed.dispose();
    expect(rest.weights.tensors.map((t) => Array.from(t.values))).toEqual(whole.weights.tensors.map((t) => Array.from(t.values)));
    // The evaluations they share are the same numbers.
    const tail = whole.metrics.rows.filter((r) => r.iteration >= 4);
    expect(rest.metrics.rows.filter((r) => r.iteration >= 4)).toEqual(tail);
  });

  it('restarting the schedule at 0 (start: 0) is a different run, on purpose only', async () => {
    const model = linearModel(W, B, D, K);
    const lrs: number[] = [];
    const r = await trainModel(model, data, parseTrainConfig({ ...sgd, schedule, start: 0 }), { weightsIteration: 3, onStep: (_, s) => lrs.push(s.lr) });
    model.dispose();
    expect(lrs).toHaveLength(8);
    expect(lrs[0]).toBe(0); // the first warmup step
    expect(r.metrics.meta.startIteration).toBeUndefined();
  });

  it('reads k from rewound and checkpoint bundles, and 0 from init bundles (train)', async () => {
    const ref = { arch: 'lenet_300_100', options: {} };
    const mnistLike = syntheticDataset({ seed: 3, shape: [28, 28, 1], train: 60, validation: 20, test: 20 });
    const w0 = initWeights(ref, 1);
    const cfg = { iterations: 4, batchSize: 20, evalEvery: 2, trainEvalExamples: 0, evalBatchSize: 20 };
    const rewound = { ...w0, meta: { ...w0.meta, content: 'rewound' as const, iteration: 2 } };
    const fromK = await train({ weights: rewound, data: mnistLike }, cfg);
    expect(fromK.metrics.meta.startIteration).toBe(2);
    expect(fromK.metrics.rows[0]?.iteration).toBe(2);
    const fromInit = await train({ weights: w0, data: mnistLike }, cfg);
    expect(fromInit.metrics.rows[0]?.iteration).toBe(0);
    await expect(train({ weights: { ...rewound, meta: { ...rewound.meta, iteration: 9 } }, data: mnistLike }, cfg)).rejects.toThrow(
      'trainer/train config: training would start at iteration 9 (where the starting weights are), after its end at iteration 4',
    );
    await expect(train({ weights: rewound, data: mnistLike }, { ...cfg, checkpoints: [1] })).rejects.toThrow(
      'checkpoints [1] lie before the first iteration (2',
    );
  });
});
