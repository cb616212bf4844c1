import { availableBackends, createRng, initBackend, tf } from '@lth/compute';
import type { MaskBundle } from '@lth/artifacts';
import { createModel } from './model';
import { initWeights } from './init';

const ref = { arch: 'lenet_300_100', options: {} };

function input(b: number, seed = 3): tf.Tensor4D {
  const rng = createRng('test', seed);
  return tf.tensor4d(
    Float32Array.from({ length: b * 784 }, () => rng.next()),
    [b, 28, 28, 1],
  );
}

function halfMask(seed: number): MaskBundle {
  const w = initWeights(ref, seed);
  const rng = createRng('test', 99);
  return {
    meta: { content: 'mask', model: ref },
    tensors: w.tensors
      .filter((t) => t.role !== 'bias')
      .map((t) => ({ name: t.name, role: t.role, shape: t.shape, values: Uint8Array.from(t.values, () => (rng.next() < 0.5 ? 1 : 0)) })),
  };
}

describe.each(availableBackends().filter((b) => b !== 'tensorflow'))('lenet_300_100 on %s', (backend) => {
  beforeAll(async () => {
    await initBackend(backend);
  });

  test('forward gives [b,10] logits; backward gives a gradient for every param; no leaks', () => {
    const model = createModel(initWeights(ref, 0));
    const x = input(2);
    const labels = tf.oneHot(tf.tensor1d([3, 7], 'int32'), 10);
    const before = tf.memory().numTensors;
    const { value, grads } = tf.variableGrads(() => tf.losses.softmaxCrossEntropy(labels, model.apply(x, { training: true })) as tf.Scalar);
    expect(Object.keys(grads).length).toBe(6);
    expect(value.dataSync()[0]).toBeGreaterThan(0);
    tf.dispose([value, ...Object.values(grads)]);
    expect(tf.memory().numTensors).toBe(before);
    const y = model.apply(x, { training: false });
    expect(y.shape).toEqual([2, 10]);
    tf.dispose([x, labels, y]);
    model.dispose();
  });

  test('inputGradient: false (training): every parameter gradient bit-identical; the input gradient stays available by default', () => {
    const model = createModel(initWeights(ref, 0));
    const x = input(4);
    const labels = tf.oneHot(tf.tensor1d([3, 7, 1, 0], 'int32'), 10);
    const loss = (inputGradient?: boolean) => () => tf.losses.softmaxCrossEntropy(labels, model.apply(x, { training: true, inputGradient })) as tf.Scalar;
    const full = tf.variableGrads(loss());
    const before = tf.memory().numTensors;
    const skip = tf.variableGrads(loss(false));
    for (const name of Object.keys(full.grads)) expect(Array.from(skip.grads[name]!.dataSync())).toEqual(Array.from(full.grads[name]!.dataSync()));
    tf.dispose([skip.value, ...Object.values(skip.grads)]);
    expect(tf.memory().numTensors).toBe(before);
    const dx = tf.grad((xx: tf.Tensor) => tf.losses.softmaxCrossEntropy(labels, model.apply(xx as tf.Tensor4D, { training: false })) as tf.Scalar)(x);
    expect(tf.max(tf.abs(dx)).dataSync()[0]).toBeGreaterThan(0);
    tf.dispose([full.value, ...Object.values(full.grads), dx, x, labels]);
    model.dispose();
  });

  test('wrong input shape is an error naming the model and the shape', () => {
    const model = createModel(initWeights(ref, 0));
    const x = tf.zeros([1, 32, 32, 1]) as tf.Tensor4D;
    expect(() => model.apply(x, { training: false })).toThrow(/lenet_300_100.*\[batch, 28, 28, 1\].*1,32,32,1/);
    x.dispose();
    model.dispose();
  });

  test('masked weights are exactly 0, contribute nothing, and stay 0 after an update + reapplyMask', () => {
    const w = initWeights(ref, 1);
    const mask = halfMask(1);
    const model = createModel(w);
    model.applyMask(mask);
    const masked = model.toBundle('trained');
    for (const m of mask.tensors) {
      const v = masked.tensors.find((t) => t.name === m.name)!.values;
      const orig = w.tensors.find((t) => t.name === m.name)!.values;
      // -0 from negative weights counts as exactly zero.
      let wrong = 0;
      m.values.forEach((k, i) => (wrong += v[i] === (k ? orig[i] : 0) ? 0 : 1));
      expect(wrong).toBe(0);
    }
    // Changing pruned weights in the *unmasked* bundle and masking again gives the same output.
    const noisy = initWeights(ref, 1);
    for (const m of mask.tensors) {
      const v = noisy.tensors.find((t) => t.name === m.name)!.values;
      m.values.forEach((k, i) => (v[i] = k ? v[i]! : 1000));
    }
    const other = createModel(noisy);
    other.applyMask(mask);
    const x = input(3);
    const a = model.apply(x, { training: false });
    const b = other.apply(x, { training: false });
    expect(Array.from(a.dataSync())).toEqual(Array.from(b.dataSync()));
    // One SGD step then reapplyMask: pruned weights are still exactly 0.
    const labels = tf.oneHot(tf.tensor1d([1, 2, 3], 'int32'), 10);
    const opt = tf.train.adam(0.1);
    opt.minimize(() => tf.losses.softmaxCrossEntropy(labels, model.apply(x, { training: true })) as tf.Scalar);
    model.reapplyMask();
    const after = model.toBundle('trained', { iteration: 1 });
    expect(after.meta.iteration).toBe(1);
    for (const m of mask.tensors) {
      const v = after.tensors.find((t) => t.name === m.name)!.values;
      const orig = masked.tensors.find((t) => t.name === m.name)!.values;
      let changed = 0;
      let nonzero = 0;
      m.values.forEach((k, i) => {
        if (!k) nonzero += v[i] === 0 ? 0 : 1;
        else if (v[i] !== orig[i]) changed++;
      });
      expect(nonzero).toBe(0);
      expect(changed).toBeGreaterThan(0);
    }
    tf.dispose([x, a, b, labels]);
    opt.dispose();
    model.dispose();
    other.dispose();
  });

  test('bundle round trip and mask validation', () => {
    const w = initWeights(ref, 4);
    const model = createModel(w);
    const back = model.toBundle('init');
    back.tensors.forEach((t, i) => expect(Buffer.from(t.values.buffer).equals(Buffer.from(w.tensors[i]!.values.buffer))).toBe(true));
    const bad: MaskBundle = { meta: { content: 'mask', model: ref }, tensors: [{ name: 'fc1.bias', role: 'bias', shape: [300], values: new Uint8Array(300) }] };
    expect(() => model.applyMask(bad)).toThrow(/'fc1.bias'.*not prunable/);
    const missing = { ...w, tensors: w.tensors.slice(1) };
    expect(() => createModel(missing)).toThrow(/lacks tensor 'fc1.weight'/);
    model.dispose();
  });
});
