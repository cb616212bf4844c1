import { createRng, initBackend, tf } from '@lth/compute';
import { evalBatches, syntheticDataset } from '@lth/data';
import { createModel, initWeights } from '@lth/models';
import { recomputeBatchNorm } from './batchnorm';

beforeAll(async () => {
  await initBackend();
});

// A narrow ResNet-20 (the zoo's resnet18) on 32x32 synthetic CIFAR-shaped images.
const data = syntheticDataset({ seed: 5, shape: [32, 32, 3], classes: 10, train: 16, validation: 4, test: 4 });
const rng = () => createRng('test', 0);
const buffersOf = (m: ReturnType<typeof createModel>) => new Map([...m.buffers].map(([n, v]) => [n, Float32Array.from(v.dataSync() as Float32Array)]));

describe('recomputeBatchNorm', () => {
  it("sets the first layer's running statistics to the batch mean and unbiased variance of its input", () => {
    const model = createModel(initWeights({ arch: 'resnet18', options: { width: 2 } }, 1));
    // Garbage first: the result must not depend on what the buffers held.
    for (const v of model.buffers.values()) v.assign(tf.fill(v.shape, 7));
    expect(recomputeBatchNorm(model, data, { examples: 8, batchSize: 8, rng: rng() })).toBe(1);
    const [batch] = [...evalBatches(data, 'train', 8, { limit: 8 })];
    const conv = tf.conv2d(batch!.x, model.params.get('conv.weight') as tf.Tensor4D, 1, 'same');
    const { mean, variance } = tf.moments(conv, [0, 1, 2]);
    const n = 8 * 32 * 32;
    const expectedMean = Array.from(mean.dataSync());
    const expectedVar = Array.from(variance.dataSync()).map((v) => (v * n) / (n - 1));
    tf.dispose([conv, mean, variance, batch!.x, batch!.y]);
    const got = buffersOf(model);
    Array.from(got.get('bn.mean')!).forEach((v, i) => expect(v).toBeCloseTo(expectedMean[i]!, 5));
    Array.from(got.get('bn.var')!).forEach((v, i) => expect(v / expectedVar[i]!).toBeCloseTo(1, 4));
    model.dispose();
  });

  it('averages the per-batch statistics of every layer over full batches (PyTorch momentum=None)', () => {
    const model = createModel(initWeights({ arch: 'resnet18', options: { width: 2 } }, 2));
    const before = tf.memory().numTensors;
    recomputeBatchNorm(model, data, { examples: 16, batchSize: 8, rng: rng() });
    const both = buffersOf(model);
    recomputeBatchNorm(model, data, { examples: 8, batchSize: 8, rng: rng() });
    const first = buffersOf(model);
    // The second batch alone: the same dataset with the two halves of the training split swapped.
    const px = 32 * 32 * 3;
    const swapped = { ...data, images: Uint8Array.from(data.images), labels: Uint8Array.from(data.labels) };
    swapped.images.set(data.images.subarray(8 * px, 16 * px), 0);
    swapped.images.set(data.images.subarray(0, 8 * px), 8 * px);
    recomputeBatchNorm(model, swapped, { examples: 8, batchSize: 8, rng: rng() });
    const second = buffersOf(model);
    for (const [name, values] of both) {
      values.forEach((v, i) => {
        const mean = (first.get(name)![i]! + second.get(name)![i]!) / 2;
        expect(Math.abs(v - mean)).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(mean)));
      });
    }
    // 20 examples with batch 8: 2 full batches, the partial one is not used.
    expect(recomputeBatchNorm(model, data, { examples: 20, batchSize: 8, rng: rng() })).toBe(2);
    expect(buffersOf(model)).toEqual(both);
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });

  it('refuses when there is not one full batch of training examples', () => {
    const model = createModel(initWeights({ arch: 'resnet18', options: { width: 2 } }, 3));
    expect(() => recomputeBatchNorm(model, data, { examples: 5, batchSize: 8, rng: rng() })).toThrow(
      /needs at least one full batch of 8 training examples; 5 are available/,
    );
    model.dispose();
  });
});
