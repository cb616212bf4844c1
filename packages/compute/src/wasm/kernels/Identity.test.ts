import { tf, initBackend } from '../../index';

const buffers = () => (tf.backend() as unknown as { dataIdMap: { numDataIds(): number } }).dataIdMap.numDataIds();

describe('wasm Identity (clone) shares the buffer', () => {
  beforeAll(async () => {
    await initBackend('wasm');
  });

  it('clones without a new buffer; either side can be disposed first', () => {
    const x = tf.tensor2d([1, -2, 3, 4], [2, 2]);
    const before = buffers();
    const y = tf.clone(x);
    expect(buffers()).toBe(before);
    expect(Array.from(y.dataSync())).toEqual([1, -2, 3, 4]);
    x.dispose();
    expect(Array.from(y.dataSync())).toEqual([1, -2, 3, 4]);
    y.dispose();
    expect(buffers()).toBe(before - 1);
  });

  it('keeps saved forward tensors valid through a gradient and leaks nothing', () => {
    const w = tf.variable(tf.tensor2d([0.5, -1, 2, 0.25], [2, 2]));
    const x = tf.tensor2d([1, 2, 3, 4], [2, 2]);
    const step = () => tf.tidy(() => tf.variableGrads(() => tf.sum(tf.square(tf.matMul(x, w))), [w]).grads[w.name]!.dataSync());
    const first = Array.from(step());
    const mem = { tensors: tf.memory().numTensors, buffers: buffers() };
    for (let i = 0; i < 3; i++) expect(Array.from(step())).toEqual(first);
    expect(tf.memory().numTensors).toBe(mem.tensors);
    expect(buffers()).toBe(mem.buffers);
    // d/dW sum((xW)^2) = 2 x^T (xW), xW = [[4.5, -0.5], [9.5, -2]]
    expect(first).toEqual([2 * (1 * 4.5 + 3 * 9.5), 2 * (1 * -0.5 + 3 * -2), 2 * (2 * 4.5 + 4 * 9.5), 2 * (2 * -0.5 + 4 * -2)]);
    tf.dispose([w, x]);
  });
});
