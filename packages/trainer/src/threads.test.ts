import { gemmThreadPolicy, initBackend, parallelConvCount, parallelGemmCount, setThreads, stopThreads } from '@lth/compute';
import { syntheticDataset } from '@lth/data';
import { initWeights } from '@lth/models';
import { train, type TrainResult } from './train';

// The root Jest config runs packages as projects, where a project's testTimeout is ignored.
jest.setTimeout(120000);

/**
 * The thread count of the wasm kernels is in no cache key (packages/compute
 * wasm/threads/settings.ts), which is sound only if it changes no bit of a training run: the
 * same steps with 1 and 2 threads must give byte-equal weights and metrics. Conv-2 at its real
 * size, where the size threshold lets products split; LeNet's products are all below it, so
 * there every product with rows for two threads is split (gemmThreadPolicy.force).
 */
describe('training with 1 and 2 threads', () => {
  beforeAll(async () => {
    await initBackend('wasm');
  });
  afterAll(async () => {
    gemmThreadPolicy.force = false;
    setThreads(undefined);
    await stopThreads();
  });

  const bytes = (r: TrainResult) => Buffer.concat(r.weights.tensors.map((t) => Buffer.from(t.values.buffer, t.values.byteOffset, t.values.byteLength)));

  it.each([
    ['lenet_300_100', 3, [28, 28, 1], true],
    ['conv2', 2, [32, 32, 3], false],
  ] as const)('%s: byte-equal weights and metrics after %i steps', async (arch, iterations, shape, force) => {
    gemmThreadPolicy.force = force;
    const data = syntheticDataset({ seed: 5, shape: [...shape], train: 180, validation: 60, test: 60 });
    const weights = initWeights({ arch, options: {} }, 3);
    const cfg = {
      batchSize: 60,
      iterations,
      evalEvery: iterations,
      trainEvalExamples: 60,
      evalBatchSize: 60,
      optimizer: { type: 'adam' as const, lr: 1.2e-3 },
    };
    setThreads(1);
    const one = await train({ weights, data }, cfg);
    setThreads(2);
    const splits = () => parallelGemmCount() + parallelConvCount();
    const before = splits();
    const two = await train({ weights, data }, cfg);
    expect(splits()).toBeGreaterThan(before); // some work really was split
    expect(bytes(two).equals(bytes(one))).toBe(true);
    expect(two.metrics).toEqual(one.metrics);
  });
});
