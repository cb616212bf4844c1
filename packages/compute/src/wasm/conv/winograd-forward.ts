import type { WasmMemory, WasmModule } from '../asm';
import { GEMM_CHUNK, gemmFor, gemmModule } from '../gemm/gemm';
import { nativeSgemm } from '../gemm/native';
import { threadPolicy, worthThreads } from '../gemm/parallel';
import { threadPool, SLOT_INTS } from '../threads/pool';
import { threadCount } from '../threads/settings';
import type { Sandwich } from './sandwich';

/**
 * The per-image part of the Winograd forward convolution (winograd.ts): input-tile transforms
 * V = B^T x B, the 36 products M[p] = V[p] U[p], output transforms y = A^T M A. Images are
 * independent here, so with threads (threads/settings.ts) the batch is split: this thread
 * does the first images in place on tfjs-backend-wasm's heap, each worker thread the next
 * block in the shared arena, from a copy of its padded input images and of U, and its output
 * images are copied back. Every output element goes through the same transforms and the same
 * products over the same k chunks, so the result is bit-identical for any thread count
 * (gemm/parallel.test.ts), and the copies (input and output images) are small beside the work
 * (Conv-2's 64->64 layer: ~17 MB for ~1.1 GFLOP).
 */

// prettier-ignore
export interface ForwardGeometry {
  n: number; ci: number; co: number; points: number; tile: number;
  th: number; tw: number; // tiles per column / row
  hp: number; wp: number; // padded input
  hq: number; wq: number; // output before any slice
}

/** The two per-tile transforms for a tile list of `rows` rows (its layout depends on it). */
export interface ForwardTransforms {
  /** Bound to tfjs-backend-wasm's heap. */
  bound(rows: number): { input: Sandwich; output: Sandwich };
  /** Compiled for the shared arena. */
  modules(rows: number): { input: WasmModule; output: WasmModule };
}

/** Byte offsets of a forward's buffers: padded input, U, V and M scratch, output. */
interface Buffers {
  xp: number;
  u: number;
  v: number;
  m: number;
  y: number;
}

const [INPUT, GEMM, OUTPUT, NATIVE_GEMM] = [0, 1, 2, 3];

let parallel = 0;
/** How many forward convolutions ran split across threads so far (tests tell the paths apart by it). */
export function parallelConvCount(): number {
  return parallel;
}
type Emit = (fn: number, args: number[]) => void;

/** Rows of a tile list of `images` images (the gemm takes rows in fours). */
const rowsOf = (g: ForwardGeometry, images: number) => Math.ceil((images * g.th * g.tw) / 4) * 4;

/**
 * Every call of the forward for `images` images, in order (as winograd.ts made them). `whole`:
 * each point's product as one OpenBLAS call over all input channels (native products).
 */
function steps(g: ForwardGeometry, images: number, at: Buffers, emit: Emit, whole = false): void {
  const { ci, co, th, tw, tile } = g;
  const rows = rowsOf(g, images);
  for (let b = 0; b < images; b++) {
    for (let ty = 0; ty < th; ty++)
      emit(INPUT, [at.xp + (b * g.hp + ty * tile) * g.wp * ci * 4, at.v + (b * th + ty) * tw * ci * 4, tw, tile * ci * 4, ci * 4, ci / 4]);
  }
  for (let p = 0; p < g.points; p++) {
    if (whole) {
      emit(NATIVE_GEMM, [at.v + p * rows * ci * 4, at.u + p * ci * co * 4, at.m + p * rows * co * 4, rows, co, ci]);
      continue;
    }
    for (let k0 = 0; k0 < ci; k0 += GEMM_CHUNK) {
      const a = at.v + p * rows * ci * 4 + k0 * 4;
      emit(GEMM, [a, at.u + (p * ci + k0) * co * 4, at.m + p * rows * co * 4, rows, Math.min(GEMM_CHUNK, ci - k0), co, ci * 4, 4, co * 4, k0 === 0 ? 0 : 1]);
    }
  }
  for (let b = 0; b < images; b++) {
    for (let ty = 0; ty < th; ty++)
      emit(OUTPUT, [at.m + (b * th + ty) * tw * co * 4, at.y + (b * g.hq + ty * tile) * g.wq * co * 4, tw, co * 4, tile * co * 4, co / 4]);
  }
}

/** Runs `steps` on this thread, on tfjs-backend-wasm's heap. */
function runHere(memory: WasmMemory, g: ForwardGeometry, images: number, at: Buffers, transforms: ForwardTransforms): void {
  const { input, output } = transforms.bound(rowsOf(g, images));
  const gemm = gemmFor(memory)!;
  const native = nativeSgemm();
  const heap = (memory as { buffer: ArrayBuffer }).buffer;
  const nativeGemm = (a: number, b: number, c: number, m: number, n: number, k: number) => native!.sgemm(heap, a, b, c, m, n, k, false, false);
  const fns = [input, gemm as (...args: number[]) => void, output, nativeGemm as (...args: number[]) => void];
  steps(g, images, at, (fn, args) => fns[fn]!(...args), native !== null);
}

/**
 * y (at `y`, [n, hq, wq, co]) from the padded input at `xp` and U at `u`; `scratch(floats)`
 * allocates this thread's V and M on the heap (freed by the caller).
 */
export function winogradForward(
  memory: WasmMemory,
  g: ForwardGeometry,
  transforms: ForwardTransforms,
  xp: number,
  u: number,
  y: number,
  scratch: (floats: number) => number,
): void {
  const threads = Math.min(threadCount(), g.n);
  const per = Math.ceil(g.n / threads); // images a thread; this one takes [0, per)
  const lanes = threads < 2 ? 0 : Math.ceil((g.n - per) / per);
  const [xpImage, yImage, uBytes] = [g.hp * g.wp * g.ci * 4, g.hq * g.wq * g.co * 4, g.points * g.ci * g.co * 4];
  const flops = 2 * g.points * g.n * g.th * g.tw * g.ci * g.co;
  const here = (images: number) => {
    const rows = rowsOf(g, images);
    runHere(memory, g, images, { xp, u, y, v: scratch(g.points * rows * g.ci), m: scratch(g.points * rows * g.co) }, transforms);
  };
  // With native products (LTH_NATIVE_BLAS=1) the 36 products go to OpenBLAS, ~5x our gemm, on
  // this thread: the copies into the arena would cost more than a second thread saves.
  if (nativeSgemm() !== null) return here(g.n);
  if (lanes === 0 || !(threadPolicy.force || worthThreads(flops, (g.n - per) * (xpImage + yImage) + uBytes, lanes + 1))) return here(g.n);
  // The arena: U once, then each lane's input images, V, M and output images.
  const align = (x: number) => Math.ceil(x / 16) * 16;
  const pool = threadPool(lanes);
  const gemm = gemmModule(true)!;
  const jobs: { first: number; images: number; at: Buffers; calls: number[] }[] = [];
  let end = align(uBytes);
  for (let lane = 0; lane < lanes; lane++) {
    const first = per * (lane + 1);
    const images = Math.min(g.n, first + per) - first;
    const rows = rowsOf(g, images);
    const at = { xp: end, u: 0, v: 0, m: 0, y: 0 };
    at.v = align(at.xp + images * xpImage);
    at.m = align(at.v + g.points * rows * g.ci * 4);
    at.y = align(at.m + g.points * rows * g.co * 4);
    end = align(at.y + images * yImage);
    const modules = transforms.modules(rows);
    const ids = [pool.define(modules.input, 'sandwich'), pool.define(gemm, 'gemm'), pool.define(modules.output, 'sandwich')];
    const calls: number[] = [];
    steps(g, images, at, (fn, args) => calls.push(ids[fn]!, args.length, ...args));
    jobs.push({ first, images, at, calls });
  }
  if (jobs.some((j) => j.calls.length > SLOT_INTS - 8) || !pool.reserve(end)) return here(g.n);
  const heap = () => new Uint8Array((memory as { buffer: ArrayBuffer }).buffer);
  const arena = pool.bytes();
  arena.set(heap().subarray(u, u + uBytes), 0);
  for (const j of jobs) arena.set(heap().subarray(xp + j.first * xpImage, xp + (j.first + j.images) * xpImage), j.at.xp);
  jobs.forEach((j, lane) => pool.start(lane, j.calls));
  try {
    here(per);
  } finally {
    pool.waitAll(lanes);
  }
  for (const j of jobs) heap().set(pool.bytes().subarray(j.at.y, j.at.y + j.images * yImage), y + j.first * yImage);
  parallel++;
}
