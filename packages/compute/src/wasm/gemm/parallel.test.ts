import { tf, initBackend, withBackend, setThreads, stopThreads, threadsRunning, parallelGemmCount, parallelConvCount } from '../../index';
import { randn } from '../../__tests__/helpers';
import type { HeapBackend } from '../kernel';
import { gemmChunkedParallel, threadPolicy, worthThreads } from './parallel';
import { GEMM_CHUNK } from './gemm';

/** The bytes of `run()`'s result with `threads` threads (each output's bits, not its value). */
function bytesWith(threads: number, run: () => tf.Tensor): Uint8Array {
  setThreads(threads);
  const splits = () => parallelGemmCount() + parallelConvCount();
  const before = splits();
  const out = tf.tidy(run);
  const bytes = new Uint8Array((out.dataSync() as Float32Array).slice().buffer);
  out.dispose();
  if (threads > 1) expect(splits()).toBeGreaterThan(before); // a split path ran
  return bytes;
}

/** Runs `run` with 1, 2 and 3 threads and expects byte-equal results. */
function expectSameBits(run: () => tf.Tensor): void {
  const one = bytesWith(1, run);
  expect(Buffer.from(bytesWith(2, run)).equals(Buffer.from(one))).toBe(true);
  expect(Buffer.from(bytesWith(3, run)).equals(Buffer.from(one))).toBe(true);
}

describe('gemm split across threads', () => {
  beforeAll(async () => {
    await initBackend('wasm');
  });
  afterEach(() => {
    threadPolicy.force = false;
    setThreads(undefined);
  });
  afterAll(async () => {
    await stopThreads();
    expect(threadsRunning()).toBe(0);
  });

  it.each([
    [512, 256, 256, false], // large enough for the cost model: no forcing
    [1000, 128, 128, false], // 3 threads: blocks of 336, 336, 328 rows
    [64, 300, 24, true], // A read transposed, k not a multiple of the chunk (forced)
    [20, 70, 8, true], // 5 row tiles over 3 threads (forced)
  ])('gives the same bits with 1, 2 and 3 threads (m %i, k %i, n %i, A transposed %s)', async (m, k, n, transposed) => {
    await withBackend('wasm', () => {
      const backend = tf.backend() as unknown as HeapBackend;
      const memory = backend.wasm.asm!.memory!;
      threadPolicy.force = m * n * k < 10_000_000;
      const a = randn(transposed ? [k, m] : [m, k], `a${m}`);
      const b = randn([k, n], `b${m}`);
      const at = (t: tf.TensorInfo) => backend.dataIdMap.get(t.dataId).memoryOffset;
      expectSameBits(() => {
        const c = tf.zeros([m, n]);
        const [aRow, aK] = transposed ? [4, m * 4] : [k * 4, 4];
        gemmChunkedParallel(memory, at(a), at(b), at(c), m, k, n, aRow, aK, n * 4, GEMM_CHUNK);
        return c;
      });
      tf.dispose([a, b]);
    });
  });

  it('keeps small products on one thread (no worker is even started)', async () => {
    await stopThreads();
    await withBackend('wasm', () => {
      setThreads(2);
      const before = parallelGemmCount();
      const a = randn([64, 64], 'sa');
      const b = randn([64, 64], 'sb');
      const c = tf.tidy(() => tf.matMul(a, b));
      expect(parallelGemmCount()).toBe(before);
      expect(threadsRunning()).toBe(0);
      tf.dispose([a, b, c]);
    });
  });

  it('applies the cost model: large products with little to copy pay, small or copy-bound ones do not', () => {
    expect(worthThreads(2 * 16384 * 256 * 64, 10e6, 2)).toBe(true); // Conv-2 fc1's input gradient
    expect(worthThreads(2 * 60 * 300 * 784, 1e6, 2)).toBe(false); // LeNet's fc1
    expect(worthThreads(2 * 3840 * 64 * 64, 2e6, 2)).toBe(false); // one of Winograd's 36 products in Conv-2: copy-bound
  });

  it.each([
    ['plain', false, false],
    ['A transposed (weight gradient)', true, false],
    ['B transposed (input gradient)', false, true],
  ])('matMul through the kernel gives the same bits with 1, 2 and 3 threads: %s', async (_name, transposeA, transposeB) => {
    await withBackend('wasm', () => {
      threadPolicy.force = true;
      const a = randn(transposeA ? [96, 64] : [64, 96], 'ma');
      const b = randn(transposeB ? [40, 96] : [96, 40], 'mb');
      expectSameBits(() => tf.matMul(a, b, transposeA, transposeB));
      tf.dispose([a, b]);
    });
  });

  it('a 3x3 convolution and both its gradients (Winograd: batch split, row split) give the same bits with 1, 2 and 3 threads', async () => {
    await withBackend('wasm', () => {
      threadPolicy.force = true;
      // 5 images: blocks of 2, 2 and 1 with 3 threads; 10x10 outputs: partial edge tiles
      const x = randn([5, 10, 10, 16], 'cx') as tf.Tensor4D;
      const w = randn([3, 3, 16, 32], 'cw') as tf.Tensor4D;
      const dy = randn([5, 10, 10, 32], 'cdy');
      const grads = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, 'same'));
      expectSameBits(() => tf.conv2d(x, w, 1, 'same'));
      expectSameBits(() => grads([x, w], dy)[0]!);
      expectSameBits(() => grads([x, w], dy)[1]!);
      tf.dispose([x, w, dy]);
    });
  });

  it('rejects a thread count that is not a whole number from 1 to 64, naming where it came from', () => {
    expect(() => setThreads(0)).toThrow("setThreads(n) must be a whole number from 1 to 64, got '0'");
    const saved = process.env['LTH_THREADS'];
    process.env['LTH_THREADS'] = 'two';
    try {
      threadPolicy.force = true;
      expect(() => tf.tidy(() => tf.matMul(randn([8, 4], 'p'), randn([4, 8], 'q')))).toThrow("LTH_THREADS must be a whole number from 1 to 64, got 'two'");
    } finally {
      if (saved === undefined) delete process.env['LTH_THREADS'];
      else process.env['LTH_THREADS'] = saved;
    }
  });
});
