import { tf, initBackend, withBackend, toActiveBackend } from '../../index';
import { randn, relErr } from '../../__tests__/helpers';
import { gemmMatMulCount } from './matmul';

/** Shapes the gemm tiles (m % 4, n % 8), as the dense layers of the conv nets have them. */
const CASES: [string, number, number, number, boolean, boolean][] = [
  ['forward x w', 12, 70, 16, false, false],
  ['weight gradient x^T dy', 16, 12, 24, true, false],
  ['input gradient dy w^T (m padded to 8)', 12, 24, 20, false, true],
  ['input gradient, m already a multiple of 8', 8, 5, 12, false, true],
];

describe('dense products through the wasm SIMD gemm', () => {
  beforeAll(async () => {
    await initBackend('wasm');
  });

  it.each(CASES)('%s (m %i, k %i, n %i) agrees with cpu, 2-d, [1, r, c] and fused with a bias', async (_, m, k, n, tA, tB) => {
    const a = randn(tA ? [k, m] : [m, k], 'a'),
      b = randn(tB ? [n, k] : [k, n], 'b'),
      bias = randn([n], 'bias');
    const run = () =>
      tf.tidy(() => {
        const [x, y, c] = [a, b, bias].map((t) => toActiveBackend(t)) as [tf.Tensor2D, tf.Tensor2D, tf.Tensor1D];
        return [
          tf.matMul(x, y, tA, tB),
          tf.matMul(tf.expandDims(x, 0), tf.expandDims(y, 0), tA, tB),
          tf.fused.matMul({ a: x, b: y, transposeA: tA, transposeB: tB, bias: c }),
        ].map((t) => [t.shape, t.dataSync() as Float32Array] as const);
      });
    const want = await withBackend('cpu', run);
    const count = gemmMatMulCount();
    const before = tf.memory().numTensors;
    const got = await withBackend('wasm', run);
    expect(gemmMatMulCount() - count).toBe(3); // the gemm ran, not the fallback
    expect(tf.memory().numTensors).toBe(before);
    want.forEach(([shape, values], i) => {
      expect(got[i]![0]).toEqual(shape);
      expect(relErr(got[i]![1], values)).toBeLessThan(1e-6);
    });
    tf.dispose([a, b, bias]);
  });

  it('leaves batched products and untileable shapes to tfjs-backend-wasm', async () => {
    await withBackend('wasm', () => {
      const count = gemmMatMulCount();
      tf.tidy(() => {
        tf.matMul(tf.ones([2, 4, 3]), tf.ones([2, 3, 8])).dataSync(); // batch 2
        tf.matMul(tf.ones([5, 3]), tf.ones([3, 8])).dataSync(); // m = 5
        tf.matMul(tf.ones([4, 3]), tf.ones([3, 10])).dataSync(); // n = 10 (the output layer)
        tf.fused.matMul({ a: tf.ones([4, 3]), b: tf.ones([3, 8]), activation: 'relu' }).dataSync(); // fused activation
      });
      expect(gemmMatMulCount()).toBe(count);
    });
  });

  it('frees its scratch buffers (the transposed-B path pads and transposes)', async () => {
    await withBackend('wasm', () => {
      const a = randn([12, 24], 'a'),
        b = randn([20, 24], 'b');
      const ids = () => (tf.backend() as unknown as { dataIdMap: { numDataIds(): number } }).dataIdMap.numDataIds();
      tf.tidy(() => void tf.matMul(a, b, false, true).dataSync());
      const before = ids();
      for (let i = 0; i < 3; i++) tf.tidy(() => void tf.matMul(a, b, false, true).dataSync());
      expect(ids()).toBe(before);
      tf.dispose([a, b]);
    });
  });
});
