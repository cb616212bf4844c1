import type { WasmMemory } from '../asm';
import { threadPool } from '../threads/pool';
import { threadCount } from '../threads/settings';
import { gemmChunked, gemmFor, gemmModule } from './gemm';

/**
 * gemmChunked split across threads (threads/settings.ts) by blocks of output rows: this
 * thread computes the first block in place on tfjs-backend-wasm's heap; each worker thread
 * computes one further block in the pool's shared arena, from copies of the operand bytes it
 * reads, and its rows of C are copied back. Every element of C is still accumulated by the
 * same gemm code over the same k chunks in the same order, so the result is bit-identical for
 * any thread count (gemm/parallel.test.ts): the thread count never enters a cache key.
 *
 * The copies make it pay only for large products: `worthThreads` is the size threshold, a
 * cost model with the rates below, from `node tools/bench/threads.mjs` (its gemm rows).
 */

/** The gemm's rate on one core (package README: ~40 GFLOP/s). */
export const GEMM_FLOPS_PER_S = 40e9;
/** Copying between the heap and the arena (TypedArray.set; ~5-10 GB/s on a quiet machine). */
export const COPY_BYTES_PER_S = 5e9;
/** Handing a job to a worker and waiting for it (Atomics.notify / wait), generous. */
export const DISPATCH_S = 100e-6;

/**
 * Whether `threads` threads finish a product of `flops` sooner than one, with `copyBytes`
 * copied by this thread before and after; it must save at least a tenth.
 */
export function worthThreads(flops: number, copyBytes: number, threads: number): boolean {
  const alone = flops / GEMM_FLOPS_PER_S;
  const split = copyBytes / COPY_BYTES_PER_S + DISPATCH_S + alone / threads;
  return split < 0.9 * alone;
}

/** `force`: split every product that has rows for two threads, whatever its size (tests). */
export const threadPolicy = { force: false };

let parallel = 0;
/** How many products ran split across threads so far (tests tell the paths apart by it). */
export function parallelGemmCount(): number {
  return parallel;
}

const align16 = (x: number) => Math.ceil(x / 16) * 16;

/** The calls gemmChunked makes, encoded for a worker: [id, 10, ...args] per k chunk. */
function chunkCalls(
  id: number,
  a: number,
  b: number,
  c: number,
  m: number,
  k: number,
  n: number,
  aRow: number,
  aK: number,
  bRow: number,
  chunk: number,
): number[] {
  const calls: number[] = [];
  for (let k0 = 0; k0 < k; k0 += chunk) {
    calls.push(id, 10, a + k0 * aK, b + k0 * bRow, c, m, Math.min(chunk, k - k0), n, aRow, aK, bRow, k0 === 0 ? 0 : 1);
  }
  return calls;
}

/**
 * gemmChunked(gemmFor(memory), ...) on `memory` (tfjs-backend-wasm's heap), on as many threads
 * as are set and pay off; same arguments and result.
 */
export function gemmChunkedParallel(
  memory: WasmMemory,
  a: number,
  b: number,
  c: number,
  m: number,
  k: number,
  n: number,
  aRow: number,
  aK: number,
  bRow: number,
  chunk: number,
): void {
  const gemm = gemmFor(memory)!;
  const alone = () => gemmChunked(gemm, a, b, c, m, k, n, aRow, aK, bRow, chunk);
  const tiles = m / 4; // the gemm computes rows in fours
  const threads = Math.min(threadCount(), tiles);
  if (threads < 2) return alone();
  const rows = Math.ceil(tiles / threads) * 4; // per thread; this thread takes rows [0, rows)
  const lanes = Math.ceil((m - rows) / rows);
  // What the workers read (rows [rows, m) of A, with any strides; all of B) and write.
  const aLo = a + rows * aRow;
  const aHi = a + (m - 1) * aRow + (k - 1) * aK + 4;
  const bHi = b + (k - 1) * bRow + n * 4;
  const cBytes = (m - rows) * n * 4;
  if (!threadPolicy.force && !worthThreads(2 * m * n * k, aHi - aLo + (bHi - b) + cBytes, lanes + 1)) return alone();
  const module = gemmModule(true);
  const [arenaA, arenaB] = [0, align16(aHi - aLo)];
  const arenaC = arenaB + align16(bHi - b);
  const pool = threadPool(lanes);
  if (!module || !pool.reserve(arenaC + cBytes)) return alone();
  const heap = () => new Uint8Array((memory as { buffer: ArrayBuffer }).buffer);
  const arena = pool.bytes();
  arena.set(heap().subarray(aLo, aHi), arenaA);
  arena.set(heap().subarray(b, bHi), arenaB);
  const id = pool.define(module, 'gemm');
  for (let lane = 0; lane < lanes; lane++) {
    const r0 = rows * (lane + 1);
    const r1 = Math.min(m, r0 + rows);
    pool.start(lane, chunkCalls(id, arenaA + (r0 - rows) * aRow, arenaB, arenaC + (r0 - rows) * n * 4, r1 - r0, k, n, aRow, aK, bRow, chunk));
  }
  try {
    gemmChunked(gemm, a, b, c, rows, k, n, aRow, aK, bRow, chunk);
  } finally {
    pool.waitAll(lanes);
  }
  heap().set(pool.bytes().subarray(arenaC, arenaC + cBytes), c + rows * n * 4);
  parallel++;
}
