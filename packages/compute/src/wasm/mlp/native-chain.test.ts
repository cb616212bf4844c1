import { existsSync } from 'node:fs';
import { maxRelDiff, normalValues } from '../../__tests__/helpers';
import { adamUpdate, createRng, initBackend, setThreads, tf } from '../../index';
import { NATIVE_ADDON, loadNativeBlas, useNativeBlas } from '../gemm/native';
import { nativeDenseAvailable, nativeDenseForward, nativeDenseStep, type DenseChainLayer, type NativeStepOptimizer } from './native-chain';

// The native dense chain (native/mlp.cc) against hand-computed values and against the same step
// composed of tfjs ops on the wasm gemm. Skips, saying so, where the addon is not built.
const built = existsSync(NATIVE_ADDON);
if (!built) console.warn(`native dense chain not tested: ${NATIVE_ADDON} is not built (npm run build:native -w @lth/compute)`);
const d = built ? describe : describe.skip;

const rand = (shape: number[], seed: string, scale = 0.3) => normalValues(shape, seed, scale);

/** LeNet-like chain 12 -> 8 -> 5 -> 3 with Adam slots, biases, and a mask on the first weight. */
function chain(opts: { masked: boolean; slots: number }) {
  const dims = [12, 8, 5, 3];
  const mask = opts.masked
    ? tf.tensor(
        Float32Array.from({ length: 12 * 8 }, (_, i) => (i % 3 === 0 ? 0 : 1)),
        [12, 8],
      )
    : undefined;
  const layers: DenseChainLayer[] = dims.slice(1).map((n, i) => {
    const m = dims[i]!;
    const w = tf.variable(tf.tensor(rand([m, n], `w${i}`), [m, n]));
    if (i === 0 && mask) w.assign(tf.mul(w, mask));
    const slots = (shape: number[]) => Array.from({ length: opts.slots }, () => tf.variable(tf.zeros(shape)));
    return {
      weight: { value: w, mask: i === 0 ? mask : undefined, slots: slots([m, n]) },
      bias: { value: tf.variable(tf.tensor(rand([n], `b${i}`), [n])), slots: slots([n]) },
      relu: i < dims.length - 2,
    };
  });
  const x = tf.tensor(rand([6, 12], 'x', 1), [6, 2, 2, 3]);
  const y = tf.tensor([0, 2, 1, 1, 0, 2], [6], 'int32');
  const dispose = () => {
    for (const l of layers) for (const p of [l.weight, l.bias!]) tf.dispose([p.value, ...p.slots]);
    tf.dispose([x, y, ...(mask ? [mask] : [])]);
  };
  return { layers, x, y, mask, dispose };
}

/** The same step as tfjs ops: forward, mean cross-entropy, tf.variableGrads, adamUpdate. */
function referenceStep(c: ReturnType<typeof chain>, s: Extract<NativeStepOptimizer, { type: 'adam' }>): number {
  const params = c.layers.flatMap((l) => [l.weight, l.bias!]);
  return tf.tidy(() => {
    const { value, grads } = tf.variableGrads(
      () => {
        let h: tf.Tensor2D = tf.reshape(c.x, [6, 12]);
        for (const l of c.layers) {
          h = tf.add(tf.matMul(h, l.weight.value), l.bias!.value);
          if (l.relu) h = tf.relu(h);
        }
        const onehot = tf.oneHot(c.y, 3);
        return tf.neg(tf.mean(tf.sum(tf.mul(onehot, tf.logSoftmax(h)), 1))) as tf.Scalar;
      },
      params.map((p) => p.value),
    );
    for (const p of params) {
      const [m, v] = p.slots as [tf.Variable, tf.Variable];
      const next = adamUpdate(p.value, m, v, grads[p.value.name]!, p.mask, s);
      p.value.assign(next.p);
      m.assign(next.m);
      v.assign(next.v);
    }
    return value.dataSync()[0]!;
  });
}

const adam = (t: number): Extract<NativeStepOptimizer, { type: 'adam' }> => ({
  type: 'adam',
  beta1: 0.9,
  beta2: 0.999,
  epsilon: 1e-8,
  stepSize: 0.01 / (1 - 0.9 ** t),
  sqrtBc2: Math.sqrt(1 - 0.999 ** t),
  weightDecay: 1e-3,
});

d('native dense chain (LTH_NATIVE_BLAS=1)', () => {
  beforeAll(async () => {
    await initBackend('wasm');
  });
  beforeEach(() => useNativeBlas(true));
  afterEach(() => useNativeBlas(undefined));

  test('is available only with native products on', () => {
    expect(nativeDenseAvailable()).toBe(true);
    useNativeBlas(false);
    expect(nativeDenseAvailable()).toBe(false);
    expect(() => nativeDenseForward(tf.zeros([1, 2]), [{ weight: tf.zeros([2, 2]), relu: false }])).toThrow(/LTH_NATIVE_BLAS=1/);
  });

  test('one SGD step by hand: zero weights, two classes, batch 2', () => {
    // logits 0, so softmax 1/2 and loss ln 2; dz = (1/2 - onehot) / 2; dW = x^T dz; lr 1: W = -dW.
    const w = tf.variable(tf.zeros([2, 2]));
    const b = tf.variable(tf.zeros([2]));
    const x = tf.tensor([1, 2, 3, 4], [2, 2]);
    const y = tf.tensor([0, 1], [2], 'int32');
    const sgd = { type: 'sgd', lr: 1, momentum: 0, nesterov: false, weightDecay: 0 } as const;
    const loss = nativeDenseStep(x, y, [{ weight: { value: w, slots: [] }, bias: { value: b, slots: [] }, relu: false }], sgd);
    expect(loss).toBeCloseTo(Math.LN2, 6);
    // dz = [[-1/4, 1/4], [1/4, -1/4]]; dW = [[1*-1/4 + 3*1/4, 1/4 - 3/4], [2*-1/4 + 4/4, 2/4 - 4/4]] = [[1/2, -1/2], [1/2, -1/2]]
    // (exp(-ln 2) in float32 is 1/2 within a few ulps, hence closeness rather than equality.)
    const expected = [-0.5, 0.5, -0.5, 0.5];
    w.dataSync().forEach((value, i) => expect(value).toBeCloseTo(expected[i]!, 6));
    b.dataSync().forEach((value) => expect(value).toBeCloseTo(0, 6));
    tf.dispose([w, b, x, y]);
  });

  test('Adam with a mask and weight decay: the tfjs-ops step within float rounding over 5 steps; pruned weights stay +0', () => {
    const native = chain({ masked: true, slots: 2 });
    const ref = chain({ masked: true, slots: 2 });
    for (let t = 1; t <= 5; t++) {
      useNativeBlas(true);
      const lossNative = nativeDenseStep(native.x, native.y, native.layers, adam(t));
      useNativeBlas(false);
      const lossRef = referenceStep(ref, adam(t));
      expect(Math.abs(lossNative - lossRef)).toBeLessThan(1e-5 * Math.abs(lossRef));
    }
    native.layers.forEach((l, i) => {
      for (const which of ['weight', 'bias'] as const) {
        const a = l[which]!;
        const b = ref.layers[i]![which]!;
        expect(maxRelDiff(a.value.dataSync(), b.value.dataSync())).toBeLessThan(1e-5);
        expect(maxRelDiff(a.slots[0]!.dataSync(), b.slots[0]!.dataSync())).toBeLessThan(1e-4);
      }
    });
    const w0 = native.layers[0]!.weight;
    const values = w0.value.dataSync();
    const [m, v] = [w0.slots[0]!.dataSync(), w0.slots[1]!.dataSync()];
    for (let i = 0; i < values.length; i += 3) {
      expect(Object.is(values[i], 0)).toBe(true);
      expect([m[i], v[i]]).toEqual([0, 0]);
    }
    native.dispose();
    ref.dispose();
  });

  test('SGD with Nesterov momentum: the optimizer formula by hand on the native gradient', () => {
    const c = chain({ masked: false, slots: 1 });
    const s = { type: 'sgd', lr: 0.1, momentum: 0.9, nesterov: true, weightDecay: 0 } as const;
    // With lr 0 nothing moves and the momentum buffer becomes the gradient g itself.
    const before = c.layers.map((l) => l.weight.value.dataSync().slice());
    nativeDenseStep(c.x, c.y, c.layers, { ...s, lr: 0 });
    const g = c.layers.map((l) => l.weight.slots[0]!.dataSync().slice());
    c.layers.forEach((l, i) => expect(Array.from(l.weight.value.dataSync())).toEqual(Array.from(before[i]!)));
    // Second step at lr 0.1: buf' = 0.9 buf + g, w' = w - 0.1 (g + 0.9 buf'), in float32.
    nativeDenseStep(c.x, c.y, c.layers, s);
    const f = Math.fround;
    c.layers.forEach((l, i) => {
      const w = l.weight.value.dataSync();
      for (let j = 0; j < w.length; j++) {
        const gj = g[i]![j]!;
        const buf = f(f(gj * f(0.9)) + gj);
        expect(w[j]).toBe(f(before[i]![j]! - f(f(gj + f(buf * f(0.9))) * f(0.1))));
      }
    });
    c.dispose();
  });

  test('forward: the tfjs forward within float rounding, one tensor out, nothing leaked', () => {
    const c = chain({ masked: false, slots: 0 });
    const plain = c.layers.map((l) => ({ weight: l.weight.value, bias: l.bias!.value, relu: l.relu }));
    useNativeBlas(false);
    const ref = tf.tidy(() => {
      let h: tf.Tensor = tf.reshape(c.x, [6, 12]);
      for (const l of plain) h = l.relu ? tf.relu(tf.add(tf.matMul(h, l.weight), l.bias)) : tf.add(tf.matMul(h, l.weight), l.bias);
      return h;
    });
    useNativeBlas(true);
    const before = tf.memory().numTensors;
    const got = nativeDenseForward(c.x, plain);
    expect(tf.memory().numTensors).toBe(before + 1);
    expect(got.shape).toEqual([6, 3]);
    expect(maxRelDiff(got.dataSync(), ref.dataSync())).toBeLessThan(1e-5);
    tf.dispose([got, ref]);
    c.dispose();
  });

  test('steps allocate no tensors', () => {
    const c = chain({ masked: true, slots: 2 });
    nativeDenseStep(c.x, c.y, c.layers, adam(1));
    const before = tf.memory().numTensors;
    for (let t = 2; t < 12; t++) nativeDenseStep(c.x, c.y, c.layers, adam(t));
    expect(tf.memory().numTensors).toBe(before);
    c.dispose();
  });

  test('bad input throws naming it and changes nothing', () => {
    const c = chain({ masked: false, slots: 2 });
    const before = c.layers.map((l) => l.weight.value.dataSync().slice());
    const badLabels = tf.tensor([0, 2, 1, 3, 0, 2], [6], 'int32');
    expect(() => nativeDenseStep(c.x, badLabels, c.layers, adam(1))).toThrow(/a label is not a class index/);
    const floatLabels = tf.tensor([0, 2, 1, 1, 0, 2], [6]);
    expect(() => nativeDenseStep(c.x, floatLabels, c.layers, adam(1))).toThrow(/labels int32/);
    const wide = tf.zeros([6, 13]);
    expect(() => nativeDenseStep(wide, c.y, c.layers, adam(1))).toThrow(/layer 0's weight is \[12,8\], its input has 13 features/);
    c.layers.forEach((l, i) => expect(Array.from(l.weight.value.dataSync())).toEqual(Array.from(before[i]!)));
    // The addon itself refuses operands outside the heap (the TS side only passes real offsets).
    const addon = loadNativeBlas();
    const heap = new ArrayBuffer(64);
    expect(() => addon.mlpForward!(heap, Uint32Array.from([1, 1, 0, 1 << 20, 2, 2, 0, 0xffffffff, 0]), 1)).toThrow(/outside the heap/);
    expect(() => addon.mlpForward!(heap, Uint32Array.from([1, 1, 0, 16, 2, 2, 4096, 0xffffffff, 0]), 1)).toThrow(/a weight lies outside the heap/);
    tf.dispose([badLabels, floatLabels, wide]);
    c.dispose();
  });

  test('LeNet-sized steps and forward: bit-identical whatever the thread budget, and right when split', () => {
    // OpenBLAS's own results change with its thread count, and a stage's budget changes with
    // what else runs: native.ts keeps OpenBLAS at one thread, and mlp.cc splits products by
    // their shapes alone (LeNet's first-layer products in column halves, a forward batch of
    // 500 in row halves), whatever runs them.
    const dims = [784, 300, 100, 10];
    const rng = createRng('test', 'threads');
    const normal = (shape: number[]) =>
      tf.tensor(
        Float32Array.from({ length: shape[0]! * shape[1]! }, () => rng.normal()),
        shape,
      );
    const xs = Array.from({ length: 6 }, () => normal([60, 784]));
    const evalX = normal([500, 784]);
    const y = tf.tensor(
      Int32Array.from({ length: 60 }, (_, i) => i % 10),
      [60],
      'int32',
    );
    const run = (threads: number) => {
      setThreads(threads);
      try {
        const layers: DenseChainLayer[] = dims.slice(1).map((n, i) => ({
          weight: {
            value: tf.variable(tf.tensor(rand([dims[i]!, n], `lw${i}`, 0.05), [dims[i]!, n])),
            slots: [tf.variable(tf.zeros([dims[i]!, n])), tf.variable(tf.zeros([dims[i]!, n]))],
          },
          bias: { value: tf.variable(tf.zeros([n])), slots: [tf.variable(tf.zeros([n])), tf.variable(tf.zeros([n]))] },
          relu: i < 2,
        }));
        xs.forEach((x, t) => nativeDenseStep(x, y, layers, adam(t + 1)));
        const plain = layers.map((l) => ({ weight: l.weight.value, bias: l.bias!.value, relu: l.relu }));
        const logits = nativeDenseForward(xs[0]!, plain);
        const evalLogits = nativeDenseForward(evalX, plain);
        // The row halves of the 500-row batch against tfjs's own forward pass.
        const expected = tf.tidy(() =>
          plain.reduce<tf.Tensor>((h, l) => {
            const z = tf.add(tf.matMul(h, l.weight), l.bias);
            return l.relu ? tf.relu(z) : z;
          }, evalX),
        );
        const err = tf.tidy(() => tf.max(tf.abs(tf.sub(evalLogits, expected))).dataSync()[0]!);
        const scale = tf.tidy(() => tf.max(tf.abs(expected)).dataSync()[0]!);
        expect(err).toBeLessThan(1e-5 * Math.max(1, scale));
        const bytes = [...layers.map((l) => l.weight.value), logits, evalLogits].map((t) => Buffer.from(t.dataSync().buffer).toString('base64'));
        for (const l of layers) for (const p of [l.weight, l.bias!]) tf.dispose([p.value, ...p.slots]);
        tf.dispose([logits, evalLogits, expected]);
        return bytes;
      } finally {
        setThreads(1);
      }
    };
    const one = run(1);
    expect(run(2)).toEqual(one);
    expect(run(3)).toEqual(one);
    tf.dispose([...xs, evalX, y]);
  });

  test('the addon refuses a thread budget outside 1..64', () => {
    const addon = loadNativeBlas();
    const heap = new ArrayBuffer(64);
    const desc = Uint32Array.from([1, 1, 0, 16, 2, 2, 0, 0xffffffff, 0]);
    for (const bad of [0, 65, -1, 1.5]) expect(() => addon.mlpForward!(heap, desc, bad)).toThrow(/threads must be a whole number in 1..64/);
  });
});
