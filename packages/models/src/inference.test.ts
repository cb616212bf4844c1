import { createRng, gemmMatMulCount, initBackend, tf, withBackend } from '@lth/compute';
import { createModel } from './model';
import { initWeights } from './init';
import { denseTailStart } from './inference';
import { modelSpec } from './zoo';

jest.setTimeout(60000);

beforeAll(async () => {
  await initBackend('wasm');
});

function input(shape: [number, number, number, number], seed: string): tf.Tensor4D {
  const rng = createRng('test', seed);
  return tf.tensor4d(
    Float32Array.from({ length: shape.reduce((a, b) => a * b) }, () => rng.normal()),
    shape,
  );
}

/** Largest |a - b| relative to the largest |b|. */
function relDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]! / tf.max(tf.abs(b)).dataSync()[0]!);
}

describe('model.inference', () => {
  test('the dense tail starts at the first dense layer after which only dense/relu/dropout follow', () => {
    expect(denseTailStart(modelSpec({ arch: 'lenet_300_100', options: {} }).layers)).toBe(1);
    const conv2 = modelSpec({ arch: 'conv2', options: { dropout: 0.5, width: 4 } }).layers;
    const t = denseTailStart(conv2);
    expect(conv2[t]!.kind).toBe('dense');
    expect(conv2[t - 1]!.kind).toBe('flatten');
    expect(denseTailStart(modelSpec({ arch: 'resnet18', options: { width: 2 } }).layers)).toBe(
      modelSpec({ arch: 'resnet18', options: { width: 2 } }).layers.length - 1,
    );
  });

  test.each([
    ['lenet_300_100', {}, [12, 28, 28, 1]],
    ['conv2', { dropout: 0.5, width: 4 }, [8, 32, 32, 3]],
    ['resnet18', { width: 2 }, [4, 32, 32, 3]],
  ] as const)('%s: logits equal eval-mode apply (float rounding), padded products on the gemm, nothing leaks', (arch, options, shape) => {
    const model = createModel(initWeights({ arch, options }, 3));
    const x = input([...shape], arch);
    const before = tf.memory().numTensors;
    const expected = model.apply(x, { training: false });
    const gemm0 = gemmMatMulCount();
    const fwd = model.inference();
    const got = fwd.apply(x);
    // LeNet's widths (300, 100, 10) are padded to 304, 104, 16 so that all three go through it.
    if (arch === 'lenet_300_100') expect(gemmMatMulCount() - gemm0).toBe(3);
    expect(got.shape).toEqual(expected.shape);
    expect(relDiff(got, expected)).toBeLessThan(1e-5);
    tf.dispose([expected, got]);
    fwd.dispose();
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
    model.dispose();
  });

  test.each([
    ['all three layers sparse (fc 7% kept, output 20%)', { 'fc1.weight': 0.07, 'fc2.weight': 0.07, 'fc3.weight': 0.2 }, 3],
    ['fc1 and fc2 sparse, the output layer dense and padded (50% kept)', { 'fc1.weight': 0.2, 'fc2.weight': 0.2, 'fc3.weight': 0.5 }, 2],
    ['only fc2 sparse: fc1 before it is not padded', { 'fc1.weight': 0.6, 'fc2.weight': 0.1, 'fc3.weight': 0.6 }, 1],
  ])('LeNet with sparse layers (%s): evaluated sparse, logits equal the masked dense forward', (_, density, sparseCount) => {
    const model = createModel(initWeights({ arch: 'lenet_300_100', options: {} }, 4));
    const rng = createRng('test', 'sparse-eval');
    const ref = { arch: 'lenet_300_100', options: {} };
    const mask = {
      meta: { content: 'mask' as const, model: ref },
      tensors: initWeights(ref, 4)
        .tensors.filter((t) => t.role !== 'bias')
        .map((t) => ({
          name: t.name,
          role: t.role,
          shape: t.shape,
          values: Uint8Array.from(t.values, () => (rng.next() < density[t.name as keyof typeof density] ? 1 : 0)),
        })),
    };
    model.applyMask(mask);
    const x = input([20, 28, 28, 1], 'sparse-eval');
    const expected = model.apply(x, { training: false });
    const dense = model.inference();
    const viaDense = dense.apply(x);
    dense.dispose();
    expect(model.useSparse(mask, 'auto').length).toBe(sparseCount);
    const before = tf.memory().numTensors;
    const fwd = model.inference();
    const got = fwd.apply(x);
    expect(got.shape).toEqual([20, 10]);
    expect(relDiff(got, expected)).toBeLessThan(1e-5);
    expect(relDiff(got, viaDense)).toBeLessThan(1e-5);
    got.dispose();
    fwd.dispose();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, expected, viaDense]);
    model.dispose();
  });

  test('on cpu nothing is padded and the logits equal eval-mode apply exactly', async () => {
    await withBackend('cpu', () => {
      const model = createModel(initWeights({ arch: 'lenet_300_100', options: {} }, 1));
      const x = input([5, 28, 28, 1], 'cpu');
      const before = tf.memory().numTensors;
      const fwd = model.inference();
      const a = fwd.apply(x);
      const b = model.apply(x, { training: false });
      expect(Array.from(a.dataSync())).toEqual(Array.from(b.dataSync()));
      tf.dispose([a, b]);
      fwd.dispose();
      expect(tf.memory().numTensors).toBe(before);
      x.dispose();
      model.dispose();
    });
  });

  test('rejects an input of the wrong shape, naming the model', () => {
    const model = createModel(initWeights({ arch: 'lenet_300_100', options: {} }, 0));
    const fwd = model.inference();
    const x = tf.zeros([2, 8, 8, 1]) as tf.Tensor4D;
    expect(() => fwd.apply(x)).toThrow(/lenet_300_100.*\[batch, 28, 28, 1\]/);
    x.dispose();
    fwd.dispose();
    model.dispose();
  });
});
