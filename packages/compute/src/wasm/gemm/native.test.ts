import { existsSync } from 'node:fs';
import { createRng, initBackend, tf } from '../../index';
import { nativeMatMulCount } from './matmul';
import { NATIVE_ADDON, loadNativeBlas, nativeBlasActive, nativeNormalizeRows, useNativeBlas } from './native';
import { backendLabel } from '../../label';
import { maskedMatMulMaxDensity } from '../../sparse';

// The optional OpenBLAS products (native.ts) against the wasm gemm. The addon is built by
// `npm run build:native -w @lth/compute` (.ci/run does, with Debian's libopenblas-dev).
const built = existsSync(NATIVE_ADDON);
if (!built) console.warn(`native products not tested: ${NATIVE_ADDON} is not built (npm run build:native -w @lth/compute; needs libopenblas-dev)`);
const d = built ? describe : describe.skip;

const rand = (shape: number[], seed: string) => {
  const rng = createRng('test', seed);
  return tf.tensor(
    Float32Array.from({ length: shape.reduce((a, b) => a * b) }, () => rng.normal()),
    shape,
  );
};
const relDiff = (a: tf.Tensor, b: tf.Tensor) => tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]! / tf.max(tf.abs(b)).dataSync()[0]!);

d('native products (LTH_NATIVE_BLAS=1) on wasm', () => {
  beforeAll(async () => {
    await initBackend('wasm');
  });
  afterEach(() => useNativeBlas(undefined));

  test.each([
    [[5, 7], [7, 3], false, false],
    [[7, 5], [7, 3], true, false],
    [[5, 7], [3, 7], false, true],
    [[7, 5], [3, 7], true, true],
    [[60, 784], [784, 300], false, false],
    [[60, 300], [784, 300], false, true],
    [[784, 60], [60, 300], false, false],
  ] as const)('%j x %j (transposeA %s, transposeB %s): equal to the wasm product within float rounding', (sa, sb, ta, tb) => {
    const a = rand([...sa], 'a');
    const b = rand([...sb], 'b');
    useNativeBlas(false);
    const ref = tf.matMul(a, b, ta, tb);
    useNativeBlas(true);
    const before = nativeMatMulCount();
    const got = tf.matMul(a, b, ta, tb);
    expect(nativeMatMulCount()).toBe(before + 1);
    expect(got.shape).toEqual(ref.shape);
    expect(relDiff(got, ref)).toBeLessThan(1e-5);
    tf.dispose([a, b, ref, got]);
  });

  test('fused product with bias, and the backend a run records', () => {
    const x = rand([12, 20], 'x');
    const w = rand([20, 6], 'w');
    const bias = rand([6], 'bias');
    useNativeBlas(false);
    expect(backendLabel()).toBe('wasm');
    const ref = tf.fused.matMul({ a: x, b: w, bias });
    useNativeBlas(true);
    expect([nativeBlasActive(), backendLabel()]).toEqual([true, 'wasm+openblas']);
    const before = tf.memory().numTensors;
    const got = tf.fused.matMul({ a: x, b: w, bias });
    expect(tf.memory().numTensors).toBe(before + 1);
    expect(relDiff(got, ref)).toBeLessThan(1e-5);
    tf.dispose([x, w, bias, ref, got]);
  });

  test("sparse: auto's density threshold follows the dense products it competes with", () => {
    useNativeBlas(false);
    expect(maskedMatMulMaxDensity()).toBe(0.3);
    useNativeBlas(true);
    expect(maskedMatMulMaxDensity()).toBe(0.1);
  });

  test('normalizeRows: the rows through the per-channel table, by hand; bad rows refused', () => {
    // Two 2-pixel images of 2 channels; lut[c * 256 + byte] = c * 1000 + byte.
    const images = Uint8Array.from([1, 2, 3, 4, 250, 251, 252, 253]);
    const lut = Float32Array.from({ length: 512 }, (_, i) => Math.floor(i / 256) * 1000 + (i % 256));
    const out = new Float32Array(8);
    useNativeBlas(false);
    expect(nativeNormalizeRows(images, Int32Array.from([1, 0]), 4, 2, lut, out)).toBe(false);
    expect(Array.from(out)).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
    useNativeBlas(true);
    expect(nativeNormalizeRows(images, Int32Array.from([1, 0]), 4, 2, lut, out)).toBe(true);
    expect(Array.from(out)).toEqual([250, 1251, 252, 1253, 1, 1002, 3, 1004]);
    const addon = loadNativeBlas();
    expect(() => addon.normalizeRows!(images, Int32Array.from([2]), 4, 2, lut, new Float32Array(4))).toThrow(/a row lies outside the images/);
    expect(() => addon.normalizeRows!(images, Int32Array.from([-1]), 4, 2, lut, new Float32Array(4))).toThrow(/a row lies outside the images/);
    expect(() => addon.normalizeRows!(images, Int32Array.from([0]), 4, 2, lut, new Float32Array(3))).toThrow(/wrong length/);
  });
});
