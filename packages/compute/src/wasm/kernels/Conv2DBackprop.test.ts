// Conv2DBackpropFilter.ts and Conv2DBackpropInput.ts together: one tf.grads call gives both gradients.
import { tf, initBackend, withBackend, toActiveBackend, registerWasmKernels, unregisterWasmKernels } from '../../index';
import { randn, relErr } from '../../__tests__/helpers';

type Pad = 'same' | 'valid' | number | [[number, number], [number, number], [number, number], [number, number]];
interface Case {
  n: number;
  h: number;
  w: number;
  ci: number;
  co: number;
  k: number;
  s: number;
  pad: Pad;
}

/** Gradients of sum(conv2d(x, w) * dy) w.r.t. x and w, computed on `backend`. */
async function convGrads(backend: 'cpu' | 'wasm', x: tf.Tensor, w: tf.Tensor, dy: tf.Tensor, c: Case): Promise<[Float32Array, Float32Array]> {
  return withBackend(backend, () =>
    tf.tidy(() => {
      const [gx, gw] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.s, c.pad))(
        [toActiveBackend(x), toActiveBackend(w)],
        toActiveBackend(dy),
      );
      return [gx!.dataSync() as Float32Array, gw!.dataSync() as Float32Array] as [Float32Array, Float32Array];
    }),
  );
}

const CASES: Case[] = [
  { n: 2, h: 8, w: 8, ci: 3, co: 8, k: 3, s: 1, pad: 'same' }, // first conv of the zoo (RGB input)
  { n: 2, h: 6, w: 6, ci: 16, co: 16, k: 3, s: 1, pad: 'same' },
  { n: 2, h: 8, w: 8, ci: 8, co: 16, k: 3, s: 2, pad: 'same' }, // ResNet downsampling, even size: pad 0 top / 1 bottom
  { n: 2, h: 9, w: 7, ci: 4, co: 6, k: 3, s: 2, pad: 'same' }, // odd sizes: other asymmetric pads
  { n: 2, h: 8, w: 8, ci: 8, co: 16, k: 1, s: 2, pad: 'same' }, // ResNet 1x1 stride-2 shortcut
  { n: 2, h: 8, w: 8, ci: 5, co: 3, k: 1, s: 2, pad: 'valid' },
  { n: 2, h: 7, w: 9, ci: 3, co: 4, k: 3, s: 1, pad: 'valid' },
  { n: 2, h: 9, w: 8, ci: 3, co: 4, k: 3, s: 2, pad: 'valid' }, // last rows never read
  { n: 1, h: 7, w: 7, ci: 2, co: 3, k: 5, s: 2, pad: 2 }, // numeric pad
  { n: 1, h: 4, w: 4, ci: 64, co: 32, k: 3, s: 1, pad: 'same' },
  { n: 2, h: 2, w: 2, ci: 256, co: 512, k: 3, s: 1, pad: 'same' }, // VGG-19's last block
  { n: 2, h: 4, w: 4, ci: 32, co: 64, k: 3, s: 2, pad: 'same' }, // ResNet-20 stage 3 entry
  {
    n: 2,
    h: 7,
    w: 6,
    ci: 3,
    co: 4,
    k: 3,
    s: 2,
    pad: [
      [0, 0],
      [2, 0],
      [0, 3],
      [0, 0],
    ],
  }, // explicit, asymmetric
  // Few input channels, stride 1: the filter gradient runs as one product per tap (conv/filter-taps.ts).
  { n: 2, h: 5, w: 6, ci: 3, co: 4, k: 1, s: 1, pad: 'same' }, // a single tap
  {
    n: 2,
    h: 6,
    w: 5,
    ci: 3,
    co: 4,
    k: 3,
    s: 1,
    pad: [
      [0, 0],
      [2, 0],
      [0, 1],
      [0, 0],
    ],
  },
  { n: 3, h: 6, w: 6, ci: 15, co: 5, k: 5, s: 1, pad: 'same' }, // the largest channel count on that path
  // 16+ input channels, stride 1: patches x dy (conv/im2col.ts); stride 2 keeps the Conv2D path.
  { n: 2, h: 6, w: 6, ci: 16, co: 5, k: 3, s: 1, pad: 'same' },
  { n: 2, h: 7, w: 9, ci: 17, co: 4, k: 3, s: 1, pad: 'valid' },
  {
    n: 2,
    h: 6,
    w: 5,
    ci: 16,
    co: 3,
    k: 5,
    s: 1,
    pad: [
      [0, 0],
      [2, 1],
      [0, 3],
      [0, 0],
    ],
  }, // explicit, asymmetric
  { n: 2, h: 5, w: 5, ci: 20, co: 7, k: 1, s: 1, pad: 'valid' },
  { n: 1, h: 5, w: 4, ci: 16, co: 6, k: 2, s: 1, pad: 'same' }, // even kernel: 'same' pads bottom/right only
];

describe('wasm convolution gradients', () => {
  beforeAll(async () => {
    await initBackend('wasm');
  });

  it.each(CASES)('agrees with cpu: %o', async (c) => {
    const x = randn([c.n, c.h, c.w, c.ci], `x${JSON.stringify(c)}`);
    const w = randn([c.k, c.k, c.ci, c.co], `w${JSON.stringify(c)}`);
    const y = tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, c.s, c.pad);
    const dy = randn(y.shape, 'dy');
    const [wantX, wantW] = await convGrads('cpu', x, w, dy, c);
    const [gotX, gotW] = await convGrads('wasm', x, w, dy, c);
    expect(gotX.length).toBe(wantX.length);
    expect(gotW.length).toBe(wantW.length);
    expect(relErr(gotX, wantX)).toBeLessThan(1e-4);
    expect(relErr(gotW, wantW)).toBeLessThan(1e-4);
    tf.dispose([x, w, y, dy]);
  });

  it('the naive built-in input gradient agrees too (so the reference is sound)', async () => {
    const c = CASES[2]!;
    const x = randn([c.n, c.h, c.w, c.ci], 'x'),
      w = randn([c.k, c.k, c.ci, c.co], 'w');
    const dy = randn([c.n, 4, 4, c.co], 'dy');
    const run = () =>
      tf.tidy(
        () =>
          tf.conv2dTranspose(dy as tf.Tensor4D, w as tf.Tensor4D, x.shape as [number, number, number, number], c.s, c.pad as 'same').dataSync() as Float32Array,
      );
    const fast = await withBackend('wasm', run);
    unregisterWasmKernels();
    try {
      const naive = await withBackend('wasm', run);
      expect(relErr(fast, naive)).toBeLessThan(1e-5);
    } finally {
      registerWasmKernels();
    }
    tf.dispose([x, w, dy]);
  });

  it.each([
    [1, 4],
    [2, 4],
    [1, 16],
  ])('leaks no tensors or wasm buffers (stride %i, %i input channels)', async (stride, ci) => {
    await withBackend('wasm', () => {
      const x = randn([2, 8, 8, ci], 'x'),
        w = randn([3, 3, ci, 6], 'w');
      const step = () =>
        tf.tidy(() => {
          const g = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, stride as 1 | 2, 'same'));
          g([x, w]).forEach((t) => t.dataSync());
        });
      step();
      const before = tf.memory();
      const buffers = (tf.backend() as unknown as { dataIdMap: { numDataIds(): number } }).dataIdMap.numDataIds();
      for (let i = 0; i < 3; i++) step();
      expect(tf.memory().numTensors).toBe(before.numTensors);
      expect(tf.memory().numBytes).toBe(before.numBytes);
      expect((tf.backend() as unknown as { dataIdMap: { numDataIds(): number } }).dataIdMap.numDataIds()).toBe(buffers);
      tf.dispose([x, w]);
    });
  });

  it('names the problem for NCHW input', async () => {
    await withBackend('wasm', () => {
      const dy = tf.zeros([1, 2, 4, 4]),
        f = tf.zeros([3, 3, 2, 2]);
      expect(() =>
        tf.engine().runKernel('Conv2DBackpropInput', { dy, filter: f }, { strides: 1, pad: 'same', dataFormat: 'NCHW', inputShape: [1, 2, 4, 4] }),
      ).toThrow(/Conv2DBackpropInput: dataFormat 'NCHW'/);
      tf.dispose([dy, f]);
    });
  });
});
