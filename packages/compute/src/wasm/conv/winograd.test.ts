import { existsSync } from 'node:fs';
import { tf, initBackend, withBackend, toActiveBackend, NATIVE_ADDON, useNativeBlas } from '../../index';
import { randn } from '../../__tests__/helpers';
import { setWinogradTile, winogradApply } from './winograd';
import type { HeapBackend } from '../kernel';

type Pad = 'same' | 'valid' | [[number, number], [number, number], [number, number], [number, number]];
interface Case {
  n: number;
  h: number;
  w: number;
  ci: number;
  co: number;
  pad: Pad;
}

/** y = conv2d(x, w) and dW of sum(y * dy), on `backend`. */
async function convAndFilterGrad(backend: 'cpu' | 'wasm', x: tf.Tensor, w: tf.Tensor, dy: tf.Tensor, pad: Pad): Promise<[Float32Array, Float32Array]> {
  return withBackend(backend, () =>
    tf.tidy(() => {
      const [xb, wb] = [toActiveBackend(x) as tf.Tensor4D, toActiveBackend(w) as tf.Tensor4D];
      const y = tf.conv2d(xb, wb, 1, pad);
      const dw = tf.grad((b: tf.Tensor) => tf.conv2d(xb, b as tf.Tensor4D, 1, pad))(wb, toActiveBackend(dy));
      return [y.dataSync() as Float32Array, dw.dataSync() as Float32Array] as [Float32Array, Float32Array];
    }),
  );
}

/** Largest absolute difference over the largest reference magnitude. */
function maxRelErr(got: Float32Array, want: Float32Array): number {
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < want.length; i++) {
    diff = Math.max(diff, Math.abs(got[i]! - want[i]!));
    scale = Math.max(scale, Math.abs(want[i]!));
  }
  return diff / scale;
}

function infoOf(c: Case): Parameters<typeof winogradApply>[0] {
  return tf.backend_util.computeConv2DInfo([c.n, c.h, c.w, c.ci], [3, 3, c.ci, c.co], 1, 1, c.pad);
}

const CASES: Case[] = [
  { n: 2, h: 8, w: 8, ci: 4, co: 8, pad: 'same' }, // whole 4x4 tiles
  { n: 3, h: 7, w: 10, ci: 8, co: 16, pad: 'valid' }, // 5x8 outputs: a partial tile row
  { n: 1, h: 6, w: 6, ci: 16, co: 16, pad: 'same' }, // 6x6: partial tiles both ways
  {
    n: 2,
    h: 9,
    w: 5,
    ci: 12,
    co: 24,
    pad: [
      [0, 0],
      [2, 0],
      [0, 3],
      [0, 0],
    ],
  }, // explicit, asymmetric
  { n: 5, h: 4, w: 4, ci: 64, co: 32, pad: 'same' }, // a single tile (VGG/ResNet deep layers)
  { n: 2, h: 32, w: 32, ci: 8, co: 8, pad: 'same' }, // Conv-2's spatial size
];

describe('Winograd F(4x4, 3x3) convolution on wasm', () => {
  beforeAll(async () => {
    await initBackend('wasm');
  });

  it.each(CASES)('forward and filter gradient agree with cpu: %o', async (c) => {
    await withBackend('wasm', () => expect(winogradApply(infoOf(c), tf.backend() as unknown as HeapBackend)).toBe(true));
    const x = randn([c.n, c.h, c.w, c.ci], `x${JSON.stringify(c)}`);
    const w = randn([3, 3, c.ci, c.co], `w${JSON.stringify(c)}`);
    const shape = tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, c.pad).shape;
    const dy = randn(shape, 'dy');
    const [wantY, wantW] = await convAndFilterGrad('cpu', x, w, dy, c.pad);
    const [gotY, gotW] = await convAndFilterGrad('wasm', x, w, dy, c.pad);
    expect(gotY.length).toBe(wantY.length);
    expect(gotW.length).toBe(wantW.length);
    // F(4x4, 3x3) rounds more than the direct sum (its transforms scale by up to 8 and 1/24):
    // measured ~1e-5 at Conv-2's size, against 1e-7 for direct; training tolerates far more.
    expect(maxRelErr(gotY, wantY)).toBeLessThan(5e-5);
    expect(maxRelErr(gotW, wantW)).toBeLessThan(5e-5);
    tf.dispose([x, w, dy]);
  });

  // With native products the 36 point products go to OpenBLAS (whole, on one thread).
  const withAddon = existsSync(NATIVE_ADDON) ? it.each(CASES) : it.skip.each(CASES);
  withAddon('with native products (LTH_NATIVE_BLAS=1): forward, input and filter gradients agree with cpu: %o', async (c) => {
    const x = randn([c.n, c.h, c.w, c.ci], `x${JSON.stringify(c)}`);
    const w = randn([3, 3, c.ci, c.co], `w${JSON.stringify(c)}`);
    const dy = randn(tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, c.pad).shape, 'dy');
    const inputGrad = (backend: 'cpu' | 'wasm') =>
      withBackend(backend, () =>
        tf.tidy(() => {
          const [xb, wb] = [toActiveBackend(x) as tf.Tensor4D, toActiveBackend(w) as tf.Tensor4D];
          return tf
            .grad((a: tf.Tensor) => tf.conv2d(a as tf.Tensor4D, wb, 1, c.pad))(xb, toActiveBackend(dy))
            .dataSync() as Float32Array;
        }),
      );
    const [wantY, wantW] = await convAndFilterGrad('cpu', x, w, dy, c.pad);
    const wantX = await inputGrad('cpu');
    useNativeBlas(true);
    try {
      const [gotY, gotW] = await convAndFilterGrad('wasm', x, w, dy, c.pad);
      const gotX = await inputGrad('wasm');
      expect(maxRelErr(gotY, wantY)).toBeLessThan(5e-5);
      expect(maxRelErr(gotW, wantW)).toBeLessThan(5e-5);
      expect(maxRelErr(gotX, wantX)).toBeLessThan(5e-5);
    } finally {
      useNativeBlas(undefined);
      tf.dispose([x, w, dy]);
    }
  });

  it.each(CASES.slice(0, 4))('F(2x2, 3x3) agrees with cpu more closely: %o', async (c) => {
    const previous = setWinogradTile(2);
    try {
      const x = randn([c.n, c.h, c.w, c.ci], `x${JSON.stringify(c)}`);
      const w = randn([3, 3, c.ci, c.co], `w${JSON.stringify(c)}`);
      const dy = randn(tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, c.pad).shape, 'dy');
      const [wantY, wantW] = await convAndFilterGrad('cpu', x, w, dy, c.pad);
      const [gotY, gotW] = await convAndFilterGrad('wasm', x, w, dy, c.pad);
      expect(maxRelErr(gotY, wantY)).toBeLessThan(1e-5);
      expect(maxRelErr(gotW, wantW)).toBeLessThan(1e-5);
      tf.dispose([x, w, dy]);
    } finally {
      setWinogradTile(previous);
    }
  });

  it.each([
    [{ n: 1, h: 8, w: 8, ci: 3, co: 8, pad: 'same' }, 'RGB input: channels not a multiple of 4'],
    [{ n: 1, h: 8, w: 8, ci: 8, co: 12, pad: 'same' }, 'output channels not a multiple of 8'],
    [{ n: 1, h: 3, w: 8, ci: 8, co: 8, pad: 'same' }, 'fewer than 4 output rows'],
  ] as [Case, string][])('leaves other shapes to XNNPACK: %o (%s)', async (c) => {
    await withBackend('wasm', () => expect(winogradApply(infoOf(c), tf.backend() as unknown as HeapBackend)).toBe(false));
  });

  it('is switched off by LTH_WINOGRAD=0', async () => {
    const c = CASES[0]!;
    await withBackend('wasm', () => {
      const backend = tf.backend() as unknown as HeapBackend;
      process.env['LTH_WINOGRAD'] = '0';
      try {
        expect(winogradApply(infoOf(c), backend)).toBe(false);
      } finally {
        delete process.env['LTH_WINOGRAD'];
      }
      expect(winogradApply(infoOf(c), backend)).toBe(true);
    });
  });

  it('is not used for stride 2 or 5x5 filters', async () => {
    await withBackend('wasm', () => {
      const backend = tf.backend() as unknown as HeapBackend;
      expect(winogradApply(tf.backend_util.computeConv2DInfo([1, 8, 8, 8], [3, 3, 8, 8], 2, 1, 'same'), backend)).toBe(false);
      expect(winogradApply(tf.backend_util.computeConv2DInfo([1, 8, 8, 8], [5, 5, 8, 8], 1, 1, 'same'), backend)).toBe(false);
    });
  });

  it('frees every scratch buffer (transforms, products, padding)', async () => {
    await withBackend('wasm', () => {
      const x = randn([2, 10, 10, 8], 'x'),
        w = randn([3, 3, 8, 16], 'w');
      const step = () =>
        tf.tidy(() => {
          const g = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, 'same'));
          g([x, w]).forEach((t) => t.dataSync());
        });
      step();
      const buffers = () => (tf.backend() as unknown as { dataIdMap: { numDataIds(): number } }).dataIdMap.numDataIds();
      const before = { ...tf.memory(), ids: buffers() };
      for (let i = 0; i < 3; i++) step();
      expect(tf.memory().numTensors).toBe(before.numTensors);
      expect(tf.memory().numBytes).toBe(before.numBytes);
      expect(buffers()).toBe(before.ids);
      tf.dispose([x, w]);
    });
  });
});
