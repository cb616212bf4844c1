import { tf, initBackend, withBackend, createRng } from '../../index';
import { gemmFor } from './gemm';
import type { HeapBackend } from '../kernel';

/** Puts `values` on the wasm heap; returns the tensor and its byte offset. */
function onHeap(values: Float32Array, shape: number[]): { t: tf.Tensor; off: number } {
  const t = tf.tensor(values, shape);
  const backend = tf.backend() as unknown as HeapBackend;
  return { t, off: backend.dataIdMap.get(t.dataId).memoryOffset };
}

function gemmOf(): NonNullable<ReturnType<typeof gemmFor>> {
  const memory = (tf.backend() as unknown as HeapBackend).wasm.asm!.memory!;
  const gemm = gemmFor(memory);
  if (!gemm) throw new Error('this engine has no wasm SIMD');
  return gemm;
}

/** C = A B in float64, A given as a function of (i, k). */
function reference(a: (i: number, k: number) => number, b: Float32Array, m: number, k: number, n: number): Float64Array {
  const c = new Float64Array(m * n);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) for (let q = 0; q < k; q++) c[i * n + j]! += a(i, q) * b[q * n + j]!;
  return c;
}

describe('wasm SIMD gemm', () => {
  beforeAll(async () => {
    await initBackend('wasm');
  });

  it('multiplies a hand-computed 4x2 by 2x8 exactly', async () => {
    await withBackend('wasm', () => {
      const gemm = gemmOf();
      const a = onHeap(Float32Array.from([1, 2, 3, 4, -1, 0, 0.5, -2]), [4, 2]);
      const bv = Float32Array.from({ length: 16 }, (_, i) => (i < 8 ? i : -(i - 8)));
      const b = onHeap(bv, [2, 8]);
      const c = onHeap(new Float32Array(32).fill(NaN), [4, 8]); // overwritten, not accumulated
      gemm(a.off, b.off, c.off, 4, 2, 8, 2 * 4, 4, 8 * 4, 0);
      // B rows: [0..7] and [0,-1..-7]. Row 0: 1*j - 2*j; row 1: 3*j - 4*j; row 2: -1*j; row 3: 0.5*j + 2*j.
      const got = Array.from(c.t.dataSync());
      expect(got.slice(0, 8)).toEqual([0, -1, -2, -3, -4, -5, -6, -7]);
      expect(got.slice(8, 16)).toEqual([0, -1, -2, -3, -4, -5, -6, -7]);
      expect(got.slice(16, 24)).toEqual([0, -1, -2, -3, -4, -5, -6, -7]);
      expect(got.slice(24, 32)).toEqual([0, 2.5, 5, 7.5, 10, 12.5, 15, 17.5]);
      tf.dispose([a.t, b.t, c.t]);
    });
  });

  it.each([
    [8, 64, 16, false],
    [12, 3, 24, false],
    [16, 300, 8, true], // A read transposed, long k: the filter-gradient shape
    [4, 1, 8, true],
  ])('agrees with a float64 product (m %i, k %i, n %i, A transposed %s)', async (m, k, n, transposed) => {
    await withBackend('wasm', () => {
      const gemm = gemmOf();
      const rng = createRng('test', `gemm${m}.${k}.${n}`);
      const av = rng.fillNormal(new Float32Array(m * k), 1);
      const bv = rng.fillNormal(new Float32Array(k * n), 1);
      const a = onHeap(av, transposed ? [k, m] : [m, k]);
      const b = onHeap(bv, [k, n]);
      const c = onHeap(new Float32Array(m * n), [m, n]);
      if (transposed) gemm(a.off, b.off, c.off, m, k, n, 4, m * 4, n * 4, 0);
      else gemm(a.off, b.off, c.off, m, k, n, k * 4, 4, n * 4, 0);
      const want = reference((i, q) => (transposed ? av[q * m + i]! : av[i * k + q]!), bv, m, k, n);
      const got = c.t.dataSync();
      for (let i = 0; i < m * n; i++) expect(Math.abs(got[i]! - want[i]!)).toBeLessThan(1e-5 * Math.sqrt(k) + 1e-6);
      tf.dispose([a.t, b.t, c.t]);
    });
  });

  it('reads B rows with a stride (a column block of a wider matrix)', async () => {
    await withBackend('wasm', () => {
      const gemm = gemmOf();
      const [m, k, n, wide] = [4, 5, 8, 24];
      const rng = createRng('test', 'strided');
      const av = rng.fillNormal(new Float32Array(m * k), 1);
      const bv = rng.fillNormal(new Float32Array(k * wide), 1);
      const a = onHeap(av, [m, k]);
      const b = onHeap(bv, [k, wide]);
      const c = onHeap(new Float32Array(m * n), [m, n]);
      gemm(a.off, b.off + 8 * 4, c.off, m, k, n, k * 4, 4, wide * 4, 0); // columns 8..15
      const block = Float32Array.from({ length: k * n }, (_, i) => bv[Math.floor(i / n) * wide + 8 + (i % n)]!);
      const want = reference((i, q) => av[i * k + q]!, block, m, k, n);
      const got = c.t.dataSync();
      for (let i = 0; i < m * n; i++) expect(got[i]).toBeCloseTo(want[i]!, 5);
      tf.dispose([a.t, b.t, c.t]);
    });
  });
});
