import { tf, initBackend, withBackend, toActiveBackend } from '../../index';
import { randn, relErr } from '../../__tests__/helpers';

function close(got: Float32Array, want: Float32Array): void {
  expect(got.length).toBe(want.length);
  expect(relErr(got, want)).toBeLessThan(1e-5);
}

describe('wasm matmul with transposed operands', () => {
  beforeAll(async () => {
    await initBackend('wasm');
  });

  it.each([
    [false, false],
    [true, false],
    [false, true],
    [true, true],
  ])('transposeA=%s transposeB=%s agrees with cpu (2-d, batched, fused bias+relu)', async (tA, tB) => {
    const a = randn(tA ? [7, 5] : [5, 7], 'a'),
      b = randn(tB ? [3, 7] : [7, 3], 'b');
    const a3 = randn(tA ? [2, 7, 5] : [2, 5, 7], 'a3'),
      b3 = randn(tB ? [2, 3, 7] : [2, 7, 3], 'b3');
    const bias = randn([3], 'bias');
    const run = () =>
      tf.tidy(() => {
        const [x, y, x3, y3, c] = [a, b, a3, b3, bias].map((t) => toActiveBackend(t));
        return [
          tf.matMul(x!, y!, tA, tB),
          tf.matMul(x3!, y3!, tA, tB),
          tf.fused.matMul({ a: x!, b: y!, transposeA: tA, transposeB: tB, bias: c, activation: 'relu' }),
        ].map((t) => t.dataSync() as Float32Array);
      });
    const want = await withBackend('cpu', run);
    const before = tf.memory().numTensors;
    const got = await withBackend('wasm', run);
    expect(tf.memory().numTensors).toBe(before);
    want.forEach((w, i) => close(got[i]!, w));
    tf.dispose([a, b, a3, b3, bias]);
  });

  it('dense-layer gradients agree with cpu', async () => {
    const x = randn([6, 10], 'x'),
      w = randn([10, 4], 'w');
    const run = () =>
      tf.tidy(() =>
        tf
          .grads((p: tf.Tensor, q: tf.Tensor) => tf.relu(tf.matMul(p, q)))([toActiveBackend(x), toActiveBackend(w)])
          .map((t) => t.dataSync() as Float32Array),
      );
    const want = await withBackend('cpu', run);
    const got = await withBackend('wasm', run);
    want.forEach((v, i) => close(got[i]!, v));
    tf.dispose([x, w]);
  });
});
