import { existsSync } from 'node:fs';
import { maxRelDiff, normalValues } from '../../__tests__/helpers';
import { adamUpdate, initBackend, setThreads, tf } from '../../index';
import { NATIVE_ADDON, loadNativeBlas, useNativeBlas } from '../gemm/native';
import type { DenseChainLayer, NativeStepOptimizer } from '../mlp/native-chain';
import { nativeConvNetAvailable, nativeConvNetForward, nativeConvNetStep, type ConvNetLayer } from './native-convnet';

// The native conv-net step (native/convnet.cc) against the same step composed of tfjs ops:
// gradients (read back from an SGD step at lr 1), the loss, the Adam update, thread budgets,
// bad input. Skips, saying so, where the addon is not built.
const built = existsSync(NATIVE_ADDON);
if (!built) console.warn(`native conv net not tested: ${NATIVE_ADDON} is not built (npm run build:native -w @lth/compute)`);
const d = built ? describe : describe.skip;

/**
 * A small Conv-4-shaped net on 10x10x3 images (10 and 5 are not multiples of the 4x4 Winograd
 * tile, so partial tiles are covered): conv 3->4, conv 4->8, pool (5x5), conv 8->8, conv 8->8,
 * pool (2x2), dense 32->16 ReLU, 16->5. Masks on the second conv and the first dense weight.
 */
function net(slots: number, batch = 3, size = 10) {
  const shapes = [
    [3, 4],
    [4, 8],
    [8, 8],
    [8, 8],
  ];
  const mask = (shape: number[]) =>
    tf.tensor(
      Float32Array.from({ length: shape.reduce((a, b) => a * b) }, (_, i) => (i % 4 === 1 ? 0 : 1)),
      shape,
    );
  const param = (shape: number[], seed: string, scale: number, masked: boolean) => {
    const m = masked ? mask(shape) : undefined;
    const value = tf.variable(tf.tensor(normalValues(shape, seed, scale), shape));
    if (m) value.assign(tf.mul(value, m));
    return { value, mask: m, slots: Array.from({ length: slots }, () => tf.variable(tf.zeros(shape))) };
  };
  const convs: ConvNetLayer[] = shapes.map(([ci, co], i) => ({
    weight: param([3, 3, ci!, co!], `cw${i}`, Math.sqrt(2 / (9 * ci!)), i === 1),
    bias: param([co!], `cb${i}`, 0.1, false),
    pool: i % 2 === 1,
  }));
  const flat = Math.floor(Math.floor(size / 2) / 2) ** 2 * 8;
  const dense: DenseChainLayer[] = [
    { weight: param([flat, 16], 'dw0', Math.sqrt(2 / flat), true), bias: param([16], 'db0', 0.1, false), relu: true },
    { weight: param([16, 5], 'dw1', 0.3, false), bias: param([5], 'db1', 0.1, false), relu: false },
  ];
  const x = tf.tensor(normalValues([batch, size, size, 3], 'x', 1), [batch, size, size, 3]);
  const y = tf.tensor(
    Int32Array.from({ length: batch }, (_, i) => (i * 2) % 5),
    [batch],
    'int32',
  );
  const all = [...convs, ...dense].flatMap((l) => [l.weight, l.bias!]);
  const dispose = () => {
    for (const p of all) tf.dispose([p.value, ...p.slots, ...(p.mask ? [p.mask] : [])]);
    tf.dispose([x, y]);
  };
  return { convs, dense, x, y, all, dispose };
}

/** The net's logits as tfjs ops (conv2d 'same', ReLU, maxPool, dense). */
function referenceLogits(n: ReturnType<typeof net>, x: tf.Tensor = n.x): tf.Tensor {
  let h: tf.Tensor = x;
  for (const l of n.convs) {
    h = tf.relu(tf.add(tf.conv2d(h as tf.Tensor4D, l.weight.value as tf.Tensor4D, 1, 'same'), l.bias!.value));
    if (l.pool) h = tf.maxPool(h as tf.Tensor4D, 2, 2, 'valid');
  }
  h = tf.reshape(h, [h.shape[0]!, -1]);
  for (const l of n.dense) {
    h = tf.add(tf.matMul(h as tf.Tensor2D, l.weight.value), l.bias!.value);
    if (l.relu) h = tf.relu(h);
  }
  return h;
}

/** The net's mean cross-entropy as tfjs ops. */
function referenceLoss(n: ReturnType<typeof net>): tf.Scalar {
  return tf.neg(tf.mean(tf.sum(tf.mul(tf.oneHot(n.y, 5), tf.logSoftmax(referenceLogits(n))), 1)));
}

const adam = (t: number): Extract<NativeStepOptimizer, { type: 'adam' }> => ({
  type: 'adam',
  beta1: 0.9,
  beta2: 0.999,
  epsilon: 1e-8,
  stepSize: 0.01 / (1 - 0.9 ** t),
  sqrtBc2: Math.sqrt(1 - 0.999 ** t),
  weightDecay: 0,
});

/**
 * Each param's (masked) gradient from the native step, exactly: SGD with momentum at lr 0 moves
 * nothing and leaves the gradient in the (zeroed) momentum buffer, slot 0, which is zeroed again.
 */
function nativeGradients(n: ReturnType<typeof net>): { loss: number; grads: Float32Array[] } {
  const loss = nativeConvNetStep(n.x, n.y, n.convs, n.dense, { type: 'sgd', lr: 0, momentum: 0.9, nesterov: false, weightDecay: 0 });
  const grads = n.all.map((p) => {
    const g = p.slots[0]!.dataSync().slice();
    p.slots[0]!.assign(tf.zerosLike(p.slots[0]!));
    return g;
  });
  return { loss, grads };
}

d('native conv-net step (LTH_NATIVE_BLAS=1)', () => {
  beforeAll(async () => {
    await initBackend('wasm');
  });
  beforeEach(() => useNativeBlas(true));
  afterEach(() => useNativeBlas(undefined));

  test('is available only with native products on', () => {
    expect(nativeConvNetAvailable()).toBe(true);
    useNativeBlas(false);
    expect(nativeConvNetAvailable()).toBe(false);
  });

  test("the loss and every param's gradient are tfjs' within float rounding (partial Winograd tiles, pools, masks)", () => {
    const n = net(1);
    const { loss, grads } = nativeGradients(n);
    useNativeBlas(false);
    const { value, grads: ref } = tf.variableGrads(
      () => referenceLoss(n),
      n.all.map((p) => p.value),
    );
    expect(Math.abs(loss - value.dataSync()[0]!)).toBeLessThan(1e-5 * Math.abs(value.dataSync()[0]!));
    n.all.forEach((p, i) => {
      // The pruned weights' gradients are masked out of the update, so compare the kept ones.
      const m = p.mask?.dataSync();
      const want = ref[p.value.name]!.dataSync().map((g, j) => (m && m[j] === 0 ? 0 : g));
      expect(maxRelDiff(grads[i]!, want)).toBeLessThan(2e-5); // measured: at most 4.5e-6
    });
    tf.dispose([value, ...Object.values(ref)]);
    n.dispose();
  });

  test('Adam: the update is adamUpdate of the same gradient, bit for bit; pruned weights stay +0', () => {
    const n = net(2);
    const { grads } = nativeGradients(n);
    const expected = n.all.map((p, i) =>
      tf.tidy(() => {
        const [m, v] = p.slots as [tf.Variable, tf.Variable];
        const r = adamUpdate(p.value, m, v, tf.tensor(grads[i]!, p.value.shape), p.mask, adam(1));
        return [r.p.dataSync().slice(), r.m.dataSync().slice()];
      }),
    );
    nativeConvNetStep(n.x, n.y, n.convs, n.dense, adam(1));
    n.all.forEach((p, i) => {
      expect(Array.from(p.value.dataSync())).toEqual(Array.from(expected[i]![0]!));
      expect(Array.from(p.slots[0]!.dataSync())).toEqual(Array.from(expected[i]![1]!));
    });
    const w = n.convs[1]!.weight.value.dataSync();
    for (let i = 1; i < w.length; i += 4) expect(Object.is(w[i], 0)).toBe(true);
    n.dispose();
  });

  test("tfjs' convolutions see the updated filters (XNNPACK keeps a packed copy per filter tensor)", () => {
    const n = net(2);
    const w = n.convs[0]!.weight.value;
    nativeConvNetStep(n.x, n.y, n.convs, n.dense, adam(1)); // a first step may give w a buffer of its own
    useNativeBlas(false);
    const before = tf.conv2d(n.x as tf.Tensor4D, w as tf.Tensor4D, 1, 'same');
    useNativeBlas(true);
    nativeConvNetStep(n.x, n.y, n.convs, n.dense, adam(2));
    useNativeBlas(false);
    const after = tf.conv2d(n.x as tf.Tensor4D, w as tf.Tensor4D, 1, 'same');
    const fresh = tf.tensor(w.dataSync(), w.shape);
    const expected = tf.conv2d(n.x as tf.Tensor4D, fresh as tf.Tensor4D, 1, 'same');
    expect(maxRelDiff(after.dataSync(), before.dataSync())).toBeGreaterThan(1e-3);
    expect(Array.from(after.dataSync())).toEqual(Array.from(expected.dataSync()));
    tf.dispose([before, after, fresh, expected]);
    n.dispose();
  });

  test('bit-identical whatever the thread budget; steps allocate no tensors', () => {
    // 9 images of 32x32: 9 im2col row chunks, 2 parts of the first filter gradient, 9 Winograd
    // tile blocks in the first pair, so the threads really share the work.
    const run = (threads: number) => {
      setThreads(threads);
      try {
        const n = net(2, 9, 32);
        nativeConvNetStep(n.x, n.y, n.convs, n.dense, adam(1));
        const before = tf.memory().numTensors;
        for (let t = 2; t <= 4; t++) nativeConvNetStep(n.x, n.y, n.convs, n.dense, adam(t));
        expect(tf.memory().numTensors).toBe(before);
        const bytes = n.all.map((p) => Buffer.from(p.value.dataSync().buffer).toString('base64'));
        n.dispose();
        return bytes;
      } finally {
        setThreads(1);
      }
    };
    const one = run(1);
    expect(run(2)).toEqual(one);
    expect(run(3)).toEqual(one);
  });

  test('forward: the tfjs forward within float rounding over 70 images (two slices), one tensor out, the same bytes for any thread budget', () => {
    const n = net(0);
    const x = tf.tensor(normalValues([70, 10, 10, 3], 'fx', 1), [70, 10, 10, 3]);
    const convs = n.convs.map((l) => ({ weight: l.weight.value, bias: l.bias!.value, pool: l.pool }));
    const dense = n.dense.map((l) => ({ weight: l.weight.value, bias: l.bias!.value, relu: l.relu }));
    useNativeBlas(false);
    const ref = tf.tidy(() => referenceLogits(n, x));
    useNativeBlas(true);
    const before = tf.memory().numTensors;
    const bytes = [1, 2].map((threads) => {
      setThreads(threads);
      try {
        const got = nativeConvNetForward(x, convs, dense);
        expect(got.shape).toEqual([70, 5]);
        expect(maxRelDiff(got.dataSync(), ref.dataSync())).toBeLessThan(2e-5);
        const b = Buffer.from(got.dataSync().buffer).toString('base64');
        got.dispose();
        return b;
      } finally {
        setThreads(1);
      }
    });
    expect(tf.memory().numTensors).toBe(before);
    expect(bytes[1]).toBe(bytes[0]);
    expect(() => nativeConvNetForward(tf.zeros([2, 12, 12, 3]), convs, dense)).toThrow(/layer 0's weight is \[32,16\], its input has 72 features/);
    tf.dispose([x, ref]);
    n.dispose();
  });

  test('bad input throws naming it and changes nothing', () => {
    const n = net(2);
    const before = n.all.map((p) => p.value.dataSync().slice());
    const badLabels = tf.tensor([0, 7, 1], [3], 'int32');
    expect(() => nativeConvNetStep(n.x, badLabels, n.convs, n.dense, adam(1))).toThrow(/a label is not a class index/);
    const wrongChannels = tf.zeros([3, 10, 10, 4]);
    expect(() => nativeConvNetStep(wrongChannels, n.y, n.convs, n.dense, adam(1))).toThrow(/convolution 0's filter is \[3,3,3,4\], not \[3, 3, 4, filters\]/);
    const bigger = tf.zeros([3, 14, 14, 3]);
    expect(() => nativeConvNetStep(bigger, n.y, n.convs, n.dense, adam(1))).toThrow(/layer 0's weight is \[32,16\], its input has 72 features/);
    n.all.forEach((p, i) => expect(Array.from(p.value.dataSync())).toEqual(Array.from(before[i]!)));
    // The addon itself checks the descriptor: sizes, and operands inside the heap.
    const addon = loadNativeBlas();
    const heap = new ArrayBuffer(1024);
    const none = 0xffffffff;
    const absent = (n: number) => Array<number>(n).fill(none);
    // [batch 1, 2x2x1, 1 conv, 1 dense, x, labels, SGD], conv [co, no pool, W, 7 absent], dims [4 co, 2], dense [W, 7 absent, no ReLU].
    const desc = (co: number, w: number) => Uint32Array.from([1, 2, 2, 1, 1, 1, 0, 16, 1, co, 0, w, ...absent(7), 4 * co, 2, 0, ...absent(7), 0]);
    expect(() => addon.convStep!(heap, desc(2, 32), Float64Array.from([0.1, 0, 0, 0]), 1)).not.toThrow();
    expect(() => addon.convStep!(heap, desc(2, 1 << 20), Float64Array.from([0.1, 0, 0, 0]), 1)).toThrow(/lies outside the heap/);
    expect(() => addon.convStep!(heap, desc(0, 32), Float64Array.from([0.1, 0, 0, 0]), 1)).toThrow(/filters, pool or size is out of range/);
    expect(() => addon.convStep!(heap, desc(2, 32).subarray(1), Float64Array.from([0.1, 0, 0, 0]), 1)).toThrow(/descriptor size/);
    // convForward: [batch 1, 2x2x1, 1 conv, 1 dense, x, out], conv [filters 2, no pool, W, b], dims [8, 2], dense [W, b, relu].
    const fwd = (w: number, out: number) => Uint32Array.from([1, 2, 2, 1, 1, 1, 0, out, 2, 0, w, none, 8, 2, 128, none, 0]);
    expect(() => addon.convForward!(heap, fwd(32, 256), 1)).not.toThrow();
    expect(() => addon.convForward!(heap, fwd(1 << 20, 256), 1)).toThrow(/a weight lies outside the heap/);
    expect(() => addon.convForward!(heap, fwd(32, 1 << 20), 1)).toThrow(/the batch or the output lies outside the heap/);
    tf.dispose([badLabels, wrongChannels, bigger]);
    n.dispose();
  });
});
