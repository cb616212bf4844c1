import { assemble, perMemory, type WasmMemory } from '../asm';
import { BLOCK_EMPTY, ELSE, END, I32, I32_ADD, I32_MUL, IF, V128 } from '../opcodes';
import { ops as o } from '../ops';
import { BATCH_LANES } from './spmm-gather';

/**
 * The forward product of a masked dense layer by rows of W: each input feature's batch-minor
 * row is added, times each of its kept weights, into the output rows they feed (the outer-
 * product form). It reads W and the input once, in order, and keeps re-reading only the output
 * block (outputs x 32 lanes: 38 KB for LeNet's fc1, 32 KB for Conv-2's), which stays in cache;
 * gathering input rows per output instead (spmm-gather.ts with a column index) reads a random input row per
 * kept weight, from L3 once the input is larger than L2 (Conv-2's fc1: 4 MB).
 *
 *   spmmScatter(src, w, dst, bias, ptr, idx, rows, cols, rowBytes, hasBias)
 *   dst[j, :] = (hasBias ? bias[j] : 0) + sum over i < rows, e in [ptr[i], ptr[i+1]) with idx[e] = j
 *               of w[i*cols + j] * src[i, :]
 *
 * Pointers and rowBytes (a multiple of 128) in bytes; ptr/idx the row index of M (int32); the
 * sums run over i in ascending order, as the column-order gather's do.
 */
export type SpmmScatter = (...args: number[]) => void;

const [SRC, W, DST, BIAS, PTR, IDX, ROWS, COLS, ROW_BYTES, HAS_BIAS] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
// i32 locals
const [C, I, J, PE, PE_END, WR, PD] = [10, 11, 12, 13, 14, 15, 16];
const I32_LOCALS = 7;
// v128 locals
const XV = [17, 18, 19, 20, 21, 22, 23, 24];
const [WV, INIT] = [25, 26];

function code(): number[] {
  const dstAt = (row: number) => [...o.get(DST), ...o.get(row), ...o.get(ROW_BYTES), I32_MUL, I32_ADD, ...o.get(C), I32_ADD, ...o.set(PD)];
  // dst[j, c..c+32) = bias[j] or 0, for every output j
  // prettier-ignore
  const init = [
    ...o.i32(0), ...o.set(J),
    ...o.whileLess(J, COLS, [
      ...o.get(HAS_BIAS), IF, BLOCK_EMPTY,
      ...o.get(BIAS), ...o.get(J), ...o.i32(4), I32_MUL, I32_ADD, ...o.v128load32Splat(0), ...o.set(INIT),
      ELSE, ...o.v128Zero, ...o.set(INIT), END,
      ...dstAt(J),
      ...XV.flatMap((_, q) => [...o.get(PD), ...o.get(INIT), ...o.v128store(16 * q)]),
      ...o.addTo(J, o.i32(1)),
    ]),
  ];
  // one kept entry of row i: j = idx[e]; dst[j, c..) += w[i, j] * xv
  // prettier-ignore
  const entry = [
    ...o.get(PE), ...o.i32load(0), ...o.set(J),
    ...o.get(WR), ...o.get(J), ...o.i32(4), I32_MUL, I32_ADD, ...o.v128load32Splat(0), ...o.set(WV),
    ...dstAt(J),
    ...XV.flatMap((x, q) => [...o.get(PD), ...o.get(PD), ...o.v128load(16 * q), ...o.get(WV), ...o.get(x), ...o.f32x4Mul, ...o.f32x4Add, ...o.v128store(16 * q)]),
    ...o.addTo(PE, o.i32(4)),
  ];
  // prettier-ignore
  const row = [
    // xv = src[i, c..c+32)
    ...o.get(SRC), ...o.get(I), ...o.get(ROW_BYTES), I32_MUL, I32_ADD, ...o.get(C), I32_ADD, ...o.set(PD),
    ...XV.flatMap((x, q) => [...o.get(PD), ...o.v128load(16 * q), ...o.set(x)]),
    // wr = w + i*cols*4; pe = idx + ptr[i]*4; peEnd = idx + ptr[i+1]*4
    ...o.get(W), ...o.get(I), ...o.get(COLS), I32_MUL, ...o.i32(4), I32_MUL, I32_ADD, ...o.set(WR),
    ...o.get(IDX), ...o.get(PTR), ...o.get(I), ...o.i32(4), I32_MUL, I32_ADD, ...o.i32load(0), ...o.i32(4), I32_MUL, I32_ADD, ...o.set(PE),
    ...o.get(IDX), ...o.get(PTR), ...o.get(I), ...o.i32(4), I32_MUL, I32_ADD, ...o.i32load(4), ...o.i32(4), I32_MUL, I32_ADD, ...o.set(PE_END),
    ...o.whileLess(PE, PE_END, entry),
    ...o.addTo(I, o.i32(1)),
  ];
  // prettier-ignore
  return [
    ...o.i32(0), ...o.set(C),
    ...o.whileLess(C, ROW_BYTES, [
      ...init,
      ...o.i32(0), ...o.set(I),
      ...o.whileLess(I, ROWS, row),
      ...o.addTo(C, o.i32(BATCH_LANES * 4)),
    ]),
  ];
}

/** The scatter product bound to `memory`; null where the engine lacks wasm SIMD. */
export const spmmScatterFor: (memory: WasmMemory) => SpmmScatter | null = perMemory((memory) =>
  assemble(
    'spmmScatter',
    Array<number>(10).fill(I32),
    [
      [I32_LOCALS, I32],
      [10, V128],
    ],
    code(),
    memory,
  ),
);
