import { initBackend, tf } from '@lth/compute';
import { createOptimizer } from './optimizers';

beforeAll(async () => {
  await initBackend();
});

const W0 = [1, -2, 0.5, 3];
const G1 = [0.5, -0.25, 2, 0];
const G2 = [1, 1, 1, 1];
const MASK = [1, 1, 0, 1];

function setup() {
  const w = tf.variable(tf.tensor1d(W0), true);
  const mask = tf.tensor1d(MASK);
  return { w, mask, params: new Map([['fc.weight', w]]), masks: new Map([['fc.weight', mask as tf.Tensor]]) };
}

function stepWith(opt: ReturnType<typeof createOptimizer>, g: number[], lr: number) {
  tf.tidy(() => opt.step(new Map([['fc.weight', tf.tensor1d(g)]]), lr));
}

function expectClose(actual: ArrayLike<number>, expected: number[], tol: number) {
  expect(actual.length).toBe(expected.length);
  expected.forEach((e, i) => expect(Math.abs((actual[i] as number) - e)).toBeLessThan(tol));
}

describe('SGD with momentum and weight decay', () => {
  it('matches hand-computed steps and keeps the pruned weight and its momentum at exactly 0', () => {
    const { w, mask, params, masks } = setup();
    w.assign(tf.mul(w, mask)); // the trainer masks the starting weights
    const opt = createOptimizer({ type: 'sgd', lr: 0.1, momentum: 0.9, nesterov: false }, params, { weightDecay: 0.01, masks });
    stepWith(opt, G1, 0.1);
    // g' = (g + 0.01 w) * m = [0.51, -0.27, 0, 0.03]; buf = g'; w -= 0.1 buf
    expectClose(w.dataSync(), [0.949, -1.973, 0, 2.997], 1e-6);
    stepWith(opt, G2, 0.1);
    // g' = [1.00949, 0.98027, 0, 1.02997]; buf = 0.9 [0.51, -0.27, 0, 0.03] + g' = [1.46849, 0.73727, 0, 1.05697]
    expectClose(w.dataSync(), [0.802151, -2.046727, 0, 2.891303], 1e-6);
    expect(Object.is(w.dataSync()[2], 0)).toBe(true); // +0, not -0
    expect(opt.slots('fc.weight')[0]!.dataSync()[2]).toBe(0);
    opt.dispose();
    tf.dispose([w, mask]);
  });

  it('nesterov uses g + momentum * buf', () => {
    const { w, mask, params, masks } = setup();
    const opt = createOptimizer({ type: 'sgd', lr: 0.1, momentum: 0.9, nesterov: true }, params, { weightDecay: 0.01, masks });
    stepWith(opt, G1, 0.1);
    // d = 1.9 g' ; the unmasked start value 0.5 of the pruned weight is zeroed by the update
    expectClose(w.dataSync(), [0.9031, -1.9487, 0, 2.9943], 1e-6);
    opt.dispose();
    tf.dispose([w, mask]);
  });

  it('plain SGD without momentum keeps no state', () => {
    const w = tf.variable(tf.tensor1d([1, 2]));
    const opt = createOptimizer({ type: 'sgd', lr: 0.5, momentum: 0, nesterov: false }, new Map([['w', w]]));
    expect(opt.slots('w')).toEqual([]);
    tf.tidy(() => opt.step({ w: tf.tensor1d([1, -1]) }, 0.5));
    expectClose(w.dataSync(), [0.5, 2.5], 1e-7);
    opt.dispose();
    w.dispose();
  });
});

describe('Adam with weight decay', () => {
  it('matches hand-computed bias-corrected steps; pruned weight and moments are exactly 0', () => {
    const { w, mask, params, masks } = setup();
    const opt = createOptimizer({ type: 'adam', lr: 0.1, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 }, params, { weightDecay: 0.01, masks });
    stepWith(opt, G1, 0.1);
    // Step 1: mhat = g', vhat = g'^2, so each kept weight moves by lr * sign(g').
    expectClose(w.dataSync(), [0.9, -1.9, 0, 2.9], 1e-6);
    stepWith(opt, G2, 0.1);
    // Step 2 by hand: g' = [1.009, 0.981, 0, 1.029]; m = [0.1468, 0.0738, 0, 0.1056];
    // v = [0.00127792, 0.00103519, 0, 0.00105974]; bc1 = 0.19, bc2 = 0.001999;
    // update = 0.1 * (m / 0.19) / sqrt(v / 0.001999) = [0.096634, 0.053976, 0, 0.076334]
    expectClose(w.dataSync(), [0.803366, -1.953976, 0, 2.823666], 2e-5);
    const [m, v] = opt.slots('fc.weight') as [tf.Variable, tf.Variable];
    expectClose(m.dataSync(), [0.1468, 0.0738, 0, 0.1056], 1e-6);
    expect(Object.is(w.dataSync()[2], 0)).toBe(true);
    expect(m.dataSync()[2]).toBe(0);
    expect(v.dataSync()[2]).toBe(0);
    expect(opt.steps).toBe(2);
    opt.dispose();
    tf.dispose([w, mask]);
  });

  it('keeps the tensor count flat across steps and frees its state on dispose', () => {
    const { w, mask, params, masks } = setup();
    const before = tf.memory().numTensors;
    const opt = createOptimizer({ type: 'adam', lr: 0.1, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 }, params, { weightDecay: 0.01, masks });
    stepWith(opt, G1, 0.1);
    const after1 = tf.memory().numTensors;
    for (let i = 0; i < 20; i++) stepWith(opt, G2, 0.01);
    expect(tf.memory().numTensors).toBe(after1);
    opt.dispose();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([w, mask]);
  });

  it('rejects a mask of the wrong shape, naming it', () => {
    const w = tf.variable(tf.tensor1d([1, 2]));
    const bad = tf.tensor1d([1, 0, 1]);
    expect(() =>
      createOptimizer({ type: 'sgd', lr: 0.1, momentum: 0, nesterov: false }, new Map([['w', w]]), { masks: new Map([['w', bad as tf.Tensor]]) }),
    ).toThrow(/mask 'w' has shape \[3\] but the parameter has \[2\]/);
    tf.dispose([w, bad]);
  });
});
