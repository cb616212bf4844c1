import { initBackend, tf, withBackend } from '@lth/compute';
import type { MaskBundle } from '@lth/artifacts';
import { initWeights } from './init';
import { createModel, type Model } from './model';
import { randomMask } from './__tests__/random-mask';

const LENET = { arch: 'lenet_300_100', options: {} };
const w0 = initWeights(LENET, 1);

/** Logits and the gradients of a loss w.r.t. every param, for one batch of 60 in training mode. */
function step(model: Model, x: tf.Tensor4D, dy: tf.Tensor): Map<string, Float32Array> {
  return tf.tidy(() => {
    const names = [...model.params.keys()];
    const vars = names.map((n) => model.params.get(n)!);
    const out = new Map<string, Float32Array>([['logits', model.apply(x, { training: true }).dataSync() as Float32Array]]);
    const { value, grads } = tf.variableGrads(() => tf.sum(tf.mul(model.apply(x, { training: true }), dy)) as tf.Scalar, vars);
    value.dispose();
    names.forEach((n, i) => out.set(n, grads[vars[i]!.name]!.dataSync() as Float32Array));
    return out;
  });
}

function relErr(got: Float32Array, want: Float32Array): number {
  let num = 0;
  let den = 0;
  want.forEach((w, i) => {
    num += (got[i]! - w) ** 2;
    den += w ** 2;
  });
  return Math.sqrt(num / den);
}

describe('sparse dense layers (Model.useSparse)', () => {
  let x: tf.Tensor4D;
  let dy: tf.Tensor;
  beforeAll(async () => {
    await initBackend('wasm');
    x = tf.randomNormal([60, 28, 28, 1], 0, 1, 'float32', 3);
    dy = tf.randomNormal([60, 10], 0, 1, 'float32', 4);
  });
  afterAll(() => tf.dispose([x, dy]));

  // The paper's Pm for LeNet-300-100 (every layer at that density here).
  it.each([1, 0.51, 0.21, 0.07, 0.036])('gives the masked dense forward and gradients at density %f', async (keep) => {
    const mask = randomMask(w0, 5, keep);
    const dense = createModel(w0);
    const sparse = createModel(w0);
    dense.applyMask(mask);
    sparse.applyMask(mask);
    expect(sparse.useSparse(mask, 'on').map((l) => l.weight)).toEqual(['fc1.weight', 'fc2.weight', 'fc3.weight']);
    const want = step(dense, x, dy);
    let got = new Map<string, Float32Array>();
    const kernels = (await tf.profile(() => void (got = step(sparse, x, dy)))).kernels.map((k) => k.name);
    expect(kernels.filter((k) => k.startsWith('LthMaskedMatMul')).sort()).toEqual([
      ...Array<string>(6).fill('LthMaskedMatMul'), // two forward passes in step()
      'LthMaskedMatMulInputGrad', // fc2 and fc3; fc1's input is the data
      'LthMaskedMatMulInputGrad',
      ...Array<string>(3).fill('LthMaskedMatMulWeightGrad'),
    ]);
    for (const [name, values] of want) {
      const m = mask.tensors.find((t) => t.name === name);
      // The dense step's weight gradient is masked by the optimizer; the sparse one is 0 there already.
      const ref = m ? values.map((v, i) => (m.values[i] ? v : 0)) : values;
      expect(relErr(got.get(name)!, ref)).toBeLessThan(1e-5);
      if (m) expect(got.get(name)!.every((v, i) => m.values[i] || Object.is(v, 0))).toBe(true);
    }
    dense.dispose();
    sparse.dispose();
  });

  it('auto picks the layers at or below the measured density, on every masked one, off none', () => {
    const model = createModel(w0);
    const mask: MaskBundle = randomMask(w0, 2, 0.5);
    // fc2 at 7%: only it is sparse under auto.
    const fc2 = mask.tensors.find((t) => t.name === 'fc2.weight')!;
    fc2.values = randomMask(w0, 3, 0.07).tensors.find((t) => t.name === 'fc2.weight')!.values;
    const auto = model.useSparse(mask, 'auto');
    expect(auto.map((l) => l.weight)).toEqual(['fc2.weight']);
    expect(auto[0]!.density).toBeCloseTo(0.07, 2);
    expect(model.useSparse(mask, 'on')).toHaveLength(3);
    expect(model.useSparse(mask, 'off')).toEqual([]);
    expect(model.useSparse(undefined, 'on')).toEqual([]);
    model.dispose();
  });

  it('keeps tf.memory flat across steps, and frees the indexes when dropped or disposed', () => {
    const initial = tf.memory().numTensors;
    const model = createModel(w0);
    const mask = randomMask(w0, 4, 0.07);
    model.applyMask(mask);
    const before = tf.memory().numTensors;
    model.useSparse(mask, 'on');
    const withIndexes = tf.memory().numTensors;
    expect(withIndexes).toBe(before + 6); // 2 int32 tensors per layer
    for (let i = 0; i < 3; i++) step(model, x, dy);
    expect(tf.memory().numTensors).toBe(withIndexes);
    model.useSparse(undefined);
    expect(tf.memory().numTensors).toBe(before);
    model.useSparse(mask, 'on');
    model.dispose();
    expect(tf.memory().numTensors).toBe(initial);
  });

  it('falls back to dense products where the sparse kernels are not available (cpu)', async () => {
    const mask = randomMask(w0, 6, 0.07);
    await withBackend('cpu', () => {
      const model = createModel(w0);
      model.applyMask(mask);
      expect(model.useSparse(mask, 'on')).toEqual([]);
      const cx = tf.zeros([2, 28, 28, 1]) as tf.Tensor4D;
      expect(model.apply(cx, { training: true }).shape).toEqual([2, 10]);
      cx.dispose();
      model.dispose();
    });
  });
});
