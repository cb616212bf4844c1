import { assembleModule, instantiate, perMemory, type WasmMemory, type WasmModule } from '../asm';
import { BLOCK_EMPTY, ELSE, END, I32, I32_ADD, I32_MUL, IF, V128 } from '../opcodes';
import { ops as o } from '../ops';

/**
 * A hand-assembled WebAssembly SIMD matrix product on tfjs-backend-wasm's memory, for the
 * Winograd convolution's many small products (the backend's BatchMatMul runs a batch of them
 * at ~2.4 GFLOP/s; XNNPACK's single products repack the weights on every call).
 *
 *   gemm(a, b, c, m, k, n, aRow, aK, bRow, accumulate)
 *   C[i, j] (+)= sum_k A(i, k) * B[k, j]   for i < m (a multiple of 4), j < n (a multiple of 8)
 *
 * with A(i, k) at a + i*aRow + k*aK (bytes: so A may be read transposed), B row-major with rows
 * bRow bytes apart, C row-major and packed (n floats a row); C is overwritten, or added to when
 * `accumulate` is 1 (so a long k can run in cache-sized chunks: gemmChunked). The register tile is 4 rows x 8
 * columns: eight f32x4 accumulators, two B vectors and one broadcast A value per step.
 */
export type Gemm = (a: number, b: number, c: number, m: number, k: number, n: number, aRow: number, aK: number, bRow: number, accumulate: number) => void;

const [A, B, C, M, K, N, AROW, AK, BROW, ACCUMULATE] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
// i32 locals
const [I, J, KK, PA0, PA1, PA2, PA3, PB, PC] = [10, 11, 12, 13, 14, 15, 16, 17, 18];
const I32_LOCALS = 9;
// v128 locals
const ACC = [19, 20, 21, 22, 23, 24, 25, 26];
const [B0, B1, AV] = [27, 28, 29];

/** acc[r*2 + h] += av * b_h for the A value of row r at pa_r. */
function step(row: number): number[] {
  const pa = [PA0, PA1, PA2, PA3][row]!;
  // prettier-ignore
  return [
    ...o.get(pa), ...o.v128load32Splat(0), ...o.set(AV),
    ...o.get(ACC[row * 2]!), ...o.get(AV), ...o.get(B0), ...o.f32x4Mul, ...o.f32x4Add, ...o.set(ACC[row * 2]!),
    ...o.get(ACC[row * 2 + 1]!), ...o.get(AV), ...o.get(B1), ...o.f32x4Mul, ...o.f32x4Add, ...o.set(ACC[row * 2 + 1]!),
  ];
}

function code(): number[] {
  const rowBytes = [...o.get(N), ...o.i32(4), ...o.i32Mul];
  // acc = accumulate ? C rows : 0 (pc at the tile's first row)
  // prettier-ignore
  const initAcc = [
    ...o.get(ACCUMULATE), IF, BLOCK_EMPTY,
    ...[0, 1, 2, 3].flatMap((row) => [
      ...o.get(PC), ...rowBytes, ...o.i32(row), ...o.i32Mul, ...o.i32Add, ...o.tee(PA0), ...o.v128load(0), ...o.set(ACC[row * 2]!),
      ...o.get(PA0), ...o.v128load(16), ...o.set(ACC[row * 2 + 1]!),
    ]),
    ELSE,
    ...ACC.flatMap((l) => [...o.v128Zero, ...o.set(l)]),
    END,
  ];
  // prettier-ignore
  const inner = [
    ...o.get(PB), ...o.v128load(0), ...o.set(B0),
    ...o.get(PB), ...o.v128load(16), ...o.set(B1),
    ...step(0), ...step(1), ...step(2), ...step(3),
    ...[PA0, PA1, PA2, PA3].flatMap((p) => o.addTo(p, o.get(AK))),
    ...o.addTo(PB, o.get(BROW)),
  ];
  // prettier-ignore
  const storeRow = (row: number) => [
    ...o.get(PC), ...o.get(ACC[row * 2]!), ...o.v128store(0),
    ...o.get(PC), ...o.get(ACC[row * 2 + 1]!), ...o.v128store(16),
    ...o.addTo(PC, [...o.get(N), ...o.i32(4), I32_MUL]),
  ];
  // prettier-ignore
  const tile = [
    // pc = c + (i*n + j) * 4
    ...o.get(C), ...o.get(I), ...o.get(N), I32_MUL, ...o.get(J), I32_ADD, ...o.i32(4), I32_MUL, I32_ADD, ...o.set(PC),
    ...initAcc,
    // pa_r = a + (i + r) * aRow
    ...o.get(A), ...o.get(I), ...o.get(AROW), I32_MUL, I32_ADD, ...o.set(PA0),
    ...o.get(PA0), ...o.get(AROW), I32_ADD, ...o.set(PA1),
    ...o.get(PA1), ...o.get(AROW), I32_ADD, ...o.set(PA2),
    ...o.get(PA2), ...o.get(AROW), I32_ADD, ...o.set(PA3),
    ...o.get(B), ...o.get(J), ...o.i32(4), I32_MUL, I32_ADD, ...o.set(PB),
    ...o.get(K), ...o.set(KK),
    ...o.doWhileCountdown(KK, inner),
    ...storeRow(0), ...storeRow(1), ...storeRow(2), ...storeRow(3),
  ];
  // prettier-ignore
  return [
    ...o.i32(0), ...o.set(I),
    ...o.whileLess(I, M, [
      ...o.i32(0), ...o.set(J),
      ...o.whileLess(J, N, [...tile, ...o.addTo(J, o.i32(8))]),
      ...o.addTo(I, o.i32(4)),
    ]),
  ];
}

const compiled = new Map<boolean, WasmModule | null>();
/**
 * The gemm's compiled module, importing a plain memory or (`shared`) a shared one such as the
 * worker threads' arena; null without wasm SIMD.
 */
export function gemmModule(shared = false): WasmModule | null {
  if (!compiled.has(shared)) {
    const locals: [number, number][] = [
      [I32_LOCALS, I32],
      [11, V128],
    ];
    compiled.set(shared, assembleModule('gemm', Array<number>(10).fill(I32), locals, code(), shared));
  }
  return compiled.get(shared)!;
}

/** The gemm bound to `memory`; null where the engine lacks wasm SIMD. */
export const gemmFor: (memory: WasmMemory) => Gemm | null = perMemory((memory) => {
  const module = gemmModule();
  return module && (instantiate(module, 'gemm', memory) as Gemm);
});

/** k rows per gemm call in gemmChunked: 64 measured best on Conv-2 (64 ch) and VGG-19 (256 ch) shapes. */
export const GEMM_CHUNK = 64;

/**
 * gemm over k in chunks of `chunk` (the first overwrites C, the rest add to it), so that the
 * rows of A and B a chunk reads stay in cache while every 4x8 tile of C passes over them: a long
 * k otherwise streams both operands from memory once per tile (the filter gradient's
 * [ci, tiles] x [tiles, co] ran at ~21 GFLOP/s unchunked).
 */
export function gemmChunked(
  gemm: Gemm,
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
  for (let k0 = 0; k0 < k; k0 += chunk) {
    gemm(a + k0 * aK, b + k0 * bRow, c, m, Math.min(chunk, k - k0), n, aRow, aK, bRow, k0 === 0 ? 0 : 1);
  }
}
