import { initBackend, tf } from '@lth/compute';
import { syntheticDataset } from '@lth/data';
import { createModel, initWeights } from '@lth/models';
import { parseTrainConfig } from './config';
import { evaluateSplit } from './evaluate';
import { train, trainModel } from './train';

// The root Jest config runs packages as projects, where a project's testTimeout is ignored.
jest.setTimeout(60000);

beforeAll(async () => {
  await initBackend();
});

const cifarLike = syntheticDataset({ seed: 11, shape: [32, 32, 3], train: 32, validation: 8, test: 8 });
const cfg = { iterations: 3, batchSize: 8, evalEvery: 100, evalBatchSize: 16, trainEvalExamples: 8 };

describe('dropout and batch norm follow the mode', () => {
  it('dropout draws come from the seed: same seed, same weights', async () => {
    const w0 = initWeights({ arch: 'conv2', options: { dropout: 0.5 } }, 1);
    const run = (seed: number) => train({ weights: w0, data: cifarLike }, { ...cfg, iterations: 2, seed, trainEvalExamples: 0 });
    const [a, b] = [await run(3), await run(3)];
    const fc1 = (r: Awaited<ReturnType<typeof run>>) => r.weights.tensors.find((t) => t.name === 'fc1.weight')!.values;
    expect(Buffer.from(fc1(a).buffer).equals(Buffer.from(fc1(b).buffer))).toBe(true);
    // Evaluation is in eval mode (no dropout): evaluating twice gives the same loss.
    const model = createModel(a.weights);
    const e1 = evaluateSplit(model, cifarLike, 'test', 8)!;
    const e2 = evaluateSplit(model, cifarLike, 'test', 8)!;
    expect(e1.loss).toBe(e2.loss);
    model.dispose();
  }, 60000);

  it('batch norm running statistics are updated by training steps only, and saved with the weights', async () => {
    const w0 = initWeights({ arch: 'resnet18', options: { width: 2 } }, 2);
    const model = createModel(w0);
    const mean0 = model.buffers.get('bn.mean')!.dataSync().slice();
    evaluateSplit(model, cifarLike, 'test', 8);
    expect(Array.from(model.buffers.get('bn.mean')!.dataSync())).toEqual(Array.from(mean0));
    const before = tf.memory().numTensors;
    const r = await trainModel(model, cifarLike, parseTrainConfig({ ...cfg, optimizer: { type: 'sgd', lr: 0.1, momentum: 0.9 }, weightDecay: 1e-4 }), {});
    expect(tf.memory().numTensors).toBe(before);
    const saved = r.weights.tensors.find((t) => t.name === 'bn.mean')!;
    expect(saved.role).toBe('buffer');
    expect(Array.from(saved.values).some((v) => v !== 0)).toBe(true);
    expect(Number.isFinite(r.metrics.meta.earlyStop!.validationLoss)).toBe(true);
    model.dispose();
  }, 60000);
});
