import { tf, createRng, initBackend, withBackend, maskIndex, maskedMatMul, maskedMatMulAvailable, type MaskIndex } from './index';
import { randn, relErr } from './__tests__/helpers';

interface WasmDataIds {
  numDataIds(): number;
}

/** y, dx, dW, db of sum(maskedMatMul(x, w, index, b) * dy), or of the dense product of W⊙M. */
function grads(x: tf.Tensor, w: tf.Tensor, b: tf.Tensor, dy: tf.Tensor, index: MaskIndex | null, mask: tf.Tensor): Float32Array[] {
  return tf.tidy(() => {
    const f = (xx: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) =>
      index
        ? maskedMatMul(xx as tf.Tensor2D, ww as tf.Tensor2D, index, bb as tf.Tensor1D)
        : tf.add(tf.matMul(xx as tf.Tensor2D, tf.mul(ww, mask) as tf.Tensor2D), bb);
    const { value, grads: g } = tf.valueAndGrads((xx: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) => tf.sum(tf.mul(f(xx, ww, bb), dy)))([x, w, b]);
    value.dispose();
    return [f(x, w, b), ...g].map((t) => t.dataSync() as Float32Array);
  });
}

/** A random 0/1 mask keeping round(density * size) entries. */
function randomMask(size: number, density: number, seed: number): Float32Array {
  const m = new Float32Array(size);
  for (const i of createRng('test', seed)
    .permutation(size)
    .slice(0, Math.round(density * size)))
    m[i] = 1;
  return m;
}

describe('maskIndex', () => {
  beforeAll(async () => {
    await initBackend('wasm');
  });

  it('indexes the kept entries by row', () => {
    // [[1, 0, 1],
    //  [0, 0, 1]]
    const index = maskIndex([1, 0, 1, 0, 0, 1], [2, 3]);
    expect([index.kept, index.density]).toEqual([3, 0.5]);
    expect(Array.from(index.rowPtr.dataSync())).toEqual([0, 2, 3]);
    expect(Array.from(index.rowCols.dataSync())).toEqual([0, 2, 2]);
    index.dispose();
  });

  it('refuses a mask that does not fit its shape', () => {
    expect(() => maskIndex([1, 0, 1], [2, 2])).toThrow('maskIndex: the mask has 3 values, shape [2, 2] needs 4');
    expect(() => maskIndex([], [0, 2])).toThrow('maskIndex: shape must be two positive integers, got [0,2]');
  });
});

describe('maskedMatMul on wasm', () => {
  beforeAll(async () => {
    await initBackend('wasm');
  });

  it('is available on wasm only', async () => {
    expect(maskedMatMulAvailable()).toBe(true);
    await withBackend('cpu', () => expect(maskedMatMulAvailable()).toBe(false));
  });

  it('computes y, dx and dW at the kept entries of a hand-checked case', () => {
    // W⊙M = [[1, 0], [0, 4], [5, 6]]
    const x = tf.tensor2d([1, 2, 3, 4, 5, 6], [2, 3]);
    const w = tf.tensor2d([1, 2, 3, 4, 5, 6], [3, 2]); // the pruned 2 and 3 are never read
    const m = tf.tensor2d([1, 0, 0, 1, 1, 1], [3, 2]);
    const b = tf.tensor1d([0.5, -1]);
    const dy = tf.tensor2d([1, -1, 2, 0.5], [2, 2]);
    const index = maskIndex(m.dataSync(), [3, 2]);
    const [y, dx, dw, db] = grads(x, w, b, dy, index, m);
    expect(Array.from(y!)).toEqual([16.5, 25, 34.5, 55]); // [1+15, 8+18] + b, [4+30, 20+36] + b
    expect(Array.from(dx!)).toEqual([1, -4, -1, 2, 2, 13]); // dy·(W⊙M)^T
    expect(Array.from(dw!)).toEqual([9, 0, 0, 0.5, 15, 0]); // x^T·dy = [[9, 1], [12, 0.5], [15, 0]], 0 where pruned
    expect(Array.from(db!)).toEqual([3, -0.5]);
    index.dispose();
    tf.dispose([x, w, m, b, dy]);
  });

  // A LeNet-300-100 fc1 at batch 60, at the paper's Pm; then shapes whose batch and widths are
  // not multiples of the SIMD tiles (the edges run in JS).
  it.each([
    [60, 784, 300, 1],
    [60, 784, 300, 0.51],
    [60, 784, 300, 0.21],
    [60, 784, 300, 0.07],
    [60, 784, 300, 0.036],
    [61, 100, 10, 0.3],
    [5, 7, 3, 0.6],
    [1, 9, 6, 0.5],
  ])('equals the dense masked product: batch %i, %ix%i at density %f', (batch, k, n, density) => {
    const x = randn([batch, k], 'x');
    const w = randn([k, n], 'w');
    const b = randn([n], 'b');
    const dy = randn([batch, n], 'dy');
    const maskValues = randomMask(k * n, density, k + n);
    const m = tf.tensor2d(maskValues, [k, n]);
    const index = maskIndex(maskValues, [k, n]);
    const ours = grads(x, w, b, dy, index, m);
    const dense = grads(x, w, b, dy, null, m);
    ours.forEach((got, i) => expect(relErr(got, dense[i]!)).toBeLessThan(1e-6));
    const dw = ours[2]!;
    expect(dw.every((v, i) => maskValues[i] === 1 || Object.is(v, 0))).toBe(true);
    index.dispose();
    tf.dispose([x, w, b, dy, m]);
  });

  it('computes no input gradient where none is needed (the first layer), and leaks nothing', async () => {
    const x = randn([60, 784], 'x');
    const w = randn([784, 300], 'w');
    const b = randn([300], 'b');
    const dy = randn([60, 300], 'dy');
    const index = maskIndex(randomMask(784 * 300, 0.07, 1), [784, 300]);
    const backend = tf.backend() as unknown as WasmDataIds;
    const [tensors, buffers] = [tf.memory().numTensors, backend.numDataIds()];
    const profile = await tf.profile(() => {
      tf.dispose(
        tf.grads((ww: tf.Tensor, bb: tf.Tensor) => tf.sum(tf.mul(maskedMatMul(x as tf.Tensor2D, ww as tf.Tensor2D, index, bb as tf.Tensor1D), dy)))([w, b]),
      );
    });
    const kernels = profile.kernels.map((k) => k.name);
    expect(kernels).toContain('LthMaskedMatMulWeightGrad');
    expect(kernels).not.toContain('LthMaskedMatMulInputGrad');
    expect([tf.memory().numTensors, backend.numDataIds()]).toEqual([tensors, buffers]);
    index.dispose();
    tf.dispose([x, w, b, dy]);
  });

  it('names the kernel and the input when shapes do not chain', () => {
    const index = maskIndex(new Float32Array(12).fill(1), [4, 3]);
    const x = tf.zeros([2, 5]) as tf.Tensor2D;
    const w = tf.zeros([4, 3]) as tf.Tensor2D;
    expect(() => maskedMatMul(x, w, index)).toThrow('wasm-kernels LthMaskedMatMul: xT [5,32] has 5 features, w [4,3] 4 inputs');
    index.dispose();
    tf.dispose([x, w]);
  });
});
