import { assemble, perMemory, type WasmMemory } from '../asm';
import { BLOCK_EMPTY, END, I32, I32_ADD, I32_MUL, IF, V128 } from '../opcodes';
import { ops as o } from '../ops';

/**
 * A hand-assembled WebAssembly SIMD product of a sparse matrix with a dense batch, each output
 * row gathered from the input rows its kept entries name, on tfjs-backend-wasm's memory.
 * Activations are batch-minor (one row per feature, the batch along the row, padded to a
 * multiple of BATCH_LANES with zeros), so every kept weight is one broadcast times a row of
 * SIMD vectors, and the weights are read in place from the dense weight tensor.
 *
 *   spmmGather(src, w, dst, bias, ptr, idx, rows, rowBytes, strideR, strideI, hasBias)
 *   dst[r, :] = (hasBias ? bias[r] : 0) + sum over e in [ptr[r], ptr[r+1]) of
 *               w[r*strideR + idx[e]*strideI] * src[idx[e], :]
 *
 * All pointers and strides in bytes; `ptr` (rows + 1 entries) and `idx` are int32. src and dst
 * rows are `rowBytes` long, a multiple of 128 (BATCH_LANES floats). One output row is summed in
 * eight f32x4 accumulators (32 batch lanes) per pass over its index list, the entries in index
 * order. The input gradient dy·(W⊙M)^T is the row index of M (strideR = the row length of W,
 * strideI = 4): it gathers rows of dy, which are few (a layer's outputs) and stay in cache.
 * The forward product uses spmm-scatter.ts, for the same reason.
 */
export type SpmmGather = (...args: number[]) => void;

/** Batch lanes per pass (eight f32x4 accumulators); batch-minor rows are padded to a multiple. */
export const BATCH_LANES = 32;

const [SRC, W, DST, BIAS, PTR, IDX, ROWS, ROW_BYTES, STRIDE_R, STRIDE_I, HAS_BIAS] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
// i32 locals
const [R, C, PE, PE_END, WR, PIN, POUT, K] = [11, 12, 13, 14, 15, 16, 17, 18];
const I32_LOCALS = 8;
// v128 locals
const ACC = [19, 20, 21, 22, 23, 24, 25, 26];
const WV = 27;

function code(): number[] {
  // acc = splat(bias[r]) or 0
  // prettier-ignore
  const initAcc = [
    ...o.v128Zero, ...o.set(ACC[0]!),
    ...o.get(HAS_BIAS), IF, BLOCK_EMPTY,
    ...o.get(BIAS), ...o.get(R), ...o.i32(4), I32_MUL, I32_ADD, ...o.v128load32Splat(0), ...o.set(ACC[0]!),
    END,
    ...ACC.slice(1).flatMap((a) => [...o.get(ACC[0]!), ...o.set(a)]),
  ];
  // one kept entry: k = idx[e]; wv = splat(w[wr + k*strideI]); acc += wv * src[k, c..c+32)
  // prettier-ignore
  const entry = [
    ...o.get(PE), ...o.i32load(0), ...o.set(K),
    ...o.get(WR), ...o.get(K), ...o.get(STRIDE_I), I32_MUL, I32_ADD, ...o.v128load32Splat(0), ...o.set(WV),
    ...o.get(SRC), ...o.get(K), ...o.get(ROW_BYTES), I32_MUL, I32_ADD, ...o.get(C), I32_ADD, ...o.set(PIN),
    ...ACC.flatMap((a, q) => [...o.get(a), ...o.get(WV), ...o.get(PIN), ...o.v128load(16 * q), ...o.f32x4Mul, ...o.f32x4Add, ...o.set(a)]),
    ...o.addTo(PE, o.i32(4)),
  ];
  // prettier-ignore
  const pass = [
    ...initAcc,
    // pe = idx + ptr[r]*4; peEnd = idx + ptr[r+1]*4
    ...o.get(IDX), ...o.get(PTR), ...o.get(R), ...o.i32(4), I32_MUL, I32_ADD, ...o.i32load(0), ...o.i32(4), I32_MUL, I32_ADD, ...o.set(PE),
    ...o.get(IDX), ...o.get(PTR), ...o.get(R), ...o.i32(4), I32_MUL, I32_ADD, ...o.i32load(4), ...o.i32(4), I32_MUL, I32_ADD, ...o.set(PE_END),
    ...o.whileLess(PE, PE_END, entry),
    ...o.get(DST), ...o.get(R), ...o.get(ROW_BYTES), I32_MUL, I32_ADD, ...o.get(C), I32_ADD, ...o.set(POUT),
    ...ACC.flatMap((a, q) => [...o.get(POUT), ...o.get(a), ...o.v128store(16 * q)]),
    ...o.addTo(C, o.i32(BATCH_LANES * 4)),
  ];
  // prettier-ignore
  return [
    ...o.i32(0), ...o.set(R),
    ...o.whileLess(R, ROWS, [
      ...o.get(W), ...o.get(R), ...o.get(STRIDE_R), I32_MUL, I32_ADD, ...o.set(WR),
      ...o.i32(0), ...o.set(C),
      ...o.whileLess(C, ROW_BYTES, pass),
      ...o.addTo(R, o.i32(1)),
    ]),
  ];
}

/** The gather product bound to `memory`; null where the engine lacks wasm SIMD. */
export const spmmGatherFor: (memory: WasmMemory) => SpmmGather | null = perMemory((memory) =>
  assemble(
    'spmmGather',
    Array<number>(11).fill(I32),
    [
      [I32_LOCALS, I32],
      [9, V128],
    ],
    code(),
    memory,
  ),
);
