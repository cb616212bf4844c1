import { createRng, initBackend, tf } from '@lth/compute';
import { plainContext } from '@lth/artifacts';
import { createModel, BN_EPSILON } from './model';
import { initWeights } from './init';
import { initStage, stages, InitConfig } from './stage';

beforeAll(async () => {
  await initBackend('cpu');
});

function randomInput(shape: [number, number, number, number], seed: string): tf.Tensor4D {
  const rng = createRng('test', seed);
  return tf.tensor4d(
    Float32Array.from({ length: shape.reduce((a, b) => a * b) }, () => 2 + 3 * rng.normal()),
    shape,
  );
}

describe('batch norm', () => {
  test('training mode updates running stats like PyTorch (momentum 0.1, unbiased var); eval uses them', () => {
    const model = createModel(initWeights({ arch: 'resnet18', options: { width: 2 } }, 0));
    const x = randomInput([3, 4, 4, 3], 'bn');
    // The first BN follows the first conv: recompute its input to know the batch statistics.
    const conv = tf.conv2d(x, model.params.get('conv.weight')! as tf.Tensor4D, 1, 'same');
    const { mean, variance } = tf.moments(conv, [0, 1, 2]);
    const n = 3 * 4 * 4;
    const expMean = Array.from(mean.dataSync(), (m) => 0.1 * m);
    const expVar = Array.from(variance.dataSync(), (v) => 0.9 + 0.1 * v * (n / (n - 1)));
    const train1 = model.apply(x, { training: true });
    const gotMean = model.buffers.get('bn.mean')!.dataSync();
    const gotVar = model.buffers.get('bn.var')!.dataSync();
    expMean.forEach((m, i) => expect(gotMean[i]).toBeCloseTo(m, 5));
    expVar.forEach((v, i) => expect(gotVar[i]).toBeCloseTo(v, 4));
    // Eval mode reads the buffers and leaves them alone; with fresh stats it differs from training.
    const e1 = model.apply(x, { training: false });
    const e2 = model.apply(x, { training: false });
    expect(Array.from(model.buffers.get('bn.mean')!.dataSync())).toEqual(Array.from(gotMean));
    expect(Array.from(e1.dataSync())).toEqual(Array.from(e2.dataSync()));
    const diff = tf.max(tf.abs(tf.sub(e1, train1))).dataSync()[0]!;
    expect(diff).toBeGreaterThan(1e-3);
    // The buffers travel with the bundle; gamma/beta are batchnorm params, means/vars are buffers.
    const b = model.toBundle('trained');
    expect(b.tensors.find((t) => t.name === 'bn.var')!.role).toBe('buffer');
    expect(Array.from(b.tensors.find((t) => t.name === 'bn.var')!.values)).toEqual(Array.from(gotVar));
    expect(model.params.has('bn.gamma') && !model.params.has('bn.mean')).toBe(true);
    expect(BN_EPSILON).toBe(1e-5);
    tf.dispose([x, conv, mean, variance, train1, e1, e2]);
    model.dispose();
  });
});

describe('dropout', () => {
  const ref = { arch: 'conv2', options: { dropout: 0.5, width: 2 } };
  test('training draws masks from opts.rng (same seed, same output); eval has none; rng is required', () => {
    const model = createModel(initWeights(ref, 0));
    const x = randomInput([2, 32, 32, 3], 'd');
    const a = model.apply(x, { training: true, rng: createRng('test', 1) }).dataSync();
    const b = model.apply(x, { training: true, rng: createRng('test', 1) }).dataSync();
    const c = model.apply(x, { training: true, rng: createRng('test', 2) }).dataSync();
    const e1 = model.apply(x, { training: false }).dataSync();
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(Array.from(a)).not.toEqual(Array.from(c));
    expect(Array.from(a)).not.toEqual(Array.from(e1));
    expect(() => model.apply(x, { training: true })).toThrow(/conv2.*opts\.rng/);
    // Without the dropout option, training and eval agree (no batch norm in Conv-2).
    const plain = createModel(initWeights({ arch: 'conv2', options: { width: 2 } }, 0));
    const t = plain.apply(x, { training: true }).dataSync();
    expect(Array.from(t)).toEqual(Array.from(plain.apply(x, { training: false }).dataSync()));
    model.dispose();
    plain.dispose();
  });
});

describe('models/init stage', () => {
  test('config defaults, validation and output', async () => {
    expect(stages.map((s) => s.id)).toEqual(['models/init', 'models/export']);
    const cfg = InitConfig.parse({ arch: 'conv4', seed: 3 });
    expect(cfg.options).toEqual({});
    expect(InitConfig.safeParse({ arch: 'conv4', seed: 3, options: { dropout: 2 } }).success).toBe(false);
    expect(InitConfig.safeParse({ arch: 'lenet', seed: 3 }).success).toBe(false);
    const out = await initStage.run(plainContext('/tmp'), InitConfig.parse({ arch: 'lenet_300_100', seed: 3 }), {});
    expect(out.weights.meta).toMatchObject({ content: 'init', seed: 3, model: { arch: 'lenet_300_100', options: {} } });
    const direct = initWeights({ arch: 'lenet_300_100', options: {} }, 3);
    expect(Buffer.from(out.weights.tensors[0]!.values.buffer).equals(Buffer.from(direct.tensors[0]!.values.buffer))).toBe(true);
  });
});
