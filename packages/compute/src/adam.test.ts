import { tf, initBackend, withBackend, toActiveBackend, createRng, adamUpdate, type AdamScalars } from './index';

function randn(n: number, seed: string): tf.Tensor {
  return tf.tensor1d(createRng('test', seed).fillNormal(new Float32Array(n), 1));
}

/** [p, m, v] after two steps on `backend`, as float32 arrays. */
async function twoSteps(backend: 'cpu' | 'wasm', withMask: boolean, s: AdamScalars): Promise<Float32Array[]> {
  const n = 1003;
  const p0 = randn(n, 'p'),
    g0 = randn(n, 'g'),
    g1 = randn(n, 'g1');
  const mask = tf.tensor1d(Float32Array.from({ length: n }, (_, i) => (i % 3 === 0 ? 0 : 1)));
  try {
    return await withBackend(backend, () =>
      tf.tidy(() => {
        const k = withMask ? toActiveBackend(mask) : undefined;
        let st = { p: toActiveBackend(p0), m: tf.zeros([n]), v: tf.zeros([n]) };
        for (const g of [g0, g1]) st = adamUpdate(st.p, st.m, st.v, toActiveBackend(g), k, s);
        return [st.p, st.m, st.v].map((t) => t.dataSync() as Float32Array);
      }),
    );
  } finally {
    tf.dispose([p0, g0, g1, mask]);
  }
}

const S: AdamScalars = { beta1: 0.9, beta2: 0.999, epsilon: 1e-8, stepSize: 1.2e-3 / 0.1, sqrtBc2: Math.sqrt(0.001), weightDecay: 0 };

describe('adamUpdate', () => {
  beforeAll(async () => {
    await initBackend('wasm');
  });

  it.each([
    ['masked', true, S],
    ['unmasked', false, S],
    ['masked, weight decay', true, { ...S, weightDecay: 5e-4, stepSize: 0.1 }],
  ] as const)('the fused wasm pass is bit-identical to the ops on cpu (%s)', async (_, withMask, s) => {
    const want = await twoSteps('cpu', withMask, s);
    const got = await twoSteps('wasm', withMask, s);
    for (let j = 0; j < 3; j++) {
      expect(got[j]!.length).toBe(want[j]!.length);
      const diff = got[j]!.findIndex((x, i) => !Object.is(x, want[j]![i]));
      expect(diff).toBe(-1);
    }
    if (withMask) expect(got[0]!.filter((_, i) => i % 3 === 0).every((x) => Object.is(x, 0))).toBe(true); // +0
  });

  it('runs no tfjs kernel on wasm (the fused pass, not the ops)', async () => {
    const p = randn(10, 'p'),
      g = randn(10, 'g'),
      m = tf.zeros([10]),
      v = tf.zeros([10]);
    const prof = await tf.profile(() => Object.values(adamUpdate(p, m, v, g, undefined, S)));
    expect(prof.kernels.map((k) => k.name)).toEqual([]);
    tf.dispose([p, g, m, v]);
  });

  it('leaks no tensors or wasm buffers', () => {
    const p = randn(64, 'p'),
      g = randn(64, 'g'),
      m = tf.zeros([64]),
      v = tf.zeros([64]),
      mask = tf.ones([64]);
    const buffers = () => (tf.backend() as unknown as { dataIdMap: { numDataIds(): number } }).dataIdMap.numDataIds();
    const before = { tensors: tf.memory().numTensors, buffers: buffers() };
    for (let i = 0; i < 3; i++) tf.dispose(Object.values(adamUpdate(p, m, v, g, mask, S)));
    expect(tf.memory().numTensors).toBe(before.tensors);
    expect(buffers()).toBe(before.buffers);
    tf.dispose([p, g, m, v, mask]);
  });
});
