import { assemble, perMemory, type WasmMemory } from '../asm';
import { I32, I32_ADD, I32_MUL, V128 } from '../opcodes';
import { ops as o } from '../ops';

/**
 * A hand-assembled WebAssembly SIMD "sampled" product (SDDMM): the entries of A·B^T at the kept
 * positions of a sparse pattern only, for the weight gradient of a masked dense layer,
 * dW = (x^T·dy) ⊙ M, without computing the pruned entries. A and B are batch-minor (one row
 * per feature, the batch along the row, zero-padded to a multiple of BATCH_LANES), so each kept
 * entry is one dot product of two contiguous rows.
 *
 *   sddmm(a, b, out, ptr, idx, rows, rowBytes, outRowBytes)
 *   out[r*outRowBytes + idx[e]*4] = dot(a[r, :], b[idx[e], :])   for e in [ptr[r], ptr[r+1])
 *
 * Pointers in bytes; ptr and idx are the row index of M (int32); rowBytes is a multiple of 32.
 * Entries not in the pattern are not written (the caller zeroes `out`). The dot product sums
 * even and odd vectors in two f32x4 accumulators, then the lanes as (l0 + l1) + (l2 + l3).
 */
export type Sddmm = (...args: number[]) => void;

const [A, B, OUT, PTR, IDX, ROWS, ROW_BYTES, OUT_ROW_BYTES] = [0, 1, 2, 3, 4, 5, 6, 7];
// i32 locals
const [R, PE, PE_END, PA, PB, QA, QEND, K] = [8, 9, 10, 11, 12, 13, 14, 15];
const I32_LOCALS = 8;
// v128 locals
const [ACC0, ACC1] = [16, 17];

function code(): number[] {
  // prettier-ignore
  const dot = [
    ...o.get(QA), ...o.v128load(0), ...o.get(PB), ...o.v128load(0), ...o.f32x4Mul, ...o.get(ACC0), ...o.f32x4Add, ...o.set(ACC0),
    ...o.get(QA), ...o.v128load(16), ...o.get(PB), ...o.v128load(16), ...o.f32x4Mul, ...o.get(ACC1), ...o.f32x4Add, ...o.set(ACC1),
    ...o.addTo(QA, o.i32(32)),
    ...o.addTo(PB, o.i32(32)),
  ];
  // prettier-ignore
  const entry = [
    ...o.get(PE), ...o.i32load(0), ...o.set(K),
    ...o.get(B), ...o.get(K), ...o.get(ROW_BYTES), I32_MUL, I32_ADD, ...o.set(PB),
    ...o.get(PA), ...o.set(QA),
    ...o.v128Zero, ...o.set(ACC0), ...o.v128Zero, ...o.set(ACC1),
    ...o.whileLess(QA, QEND, dot),
    // out[r, k] = (l0 + l1) + (l2 + l3) of acc0 + acc1
    ...o.get(OUT), ...o.get(R), ...o.get(OUT_ROW_BYTES), I32_MUL, I32_ADD, ...o.get(K), ...o.i32(4), I32_MUL, I32_ADD,
    ...o.get(ACC0), ...o.get(ACC1), ...o.f32x4Add, ...o.set(ACC0),
    ...o.get(ACC0), ...o.f32x4ExtractLane(0), ...o.get(ACC0), ...o.f32x4ExtractLane(1), ...o.f32Add,
    ...o.get(ACC0), ...o.f32x4ExtractLane(2), ...o.get(ACC0), ...o.f32x4ExtractLane(3), ...o.f32Add,
    ...o.f32Add,
    ...o.f32store(0),
    ...o.addTo(PE, o.i32(4)),
  ];
  // prettier-ignore
  return [
    ...o.i32(0), ...o.set(R),
    ...o.whileLess(R, ROWS, [
      ...o.get(IDX), ...o.get(PTR), ...o.get(R), ...o.i32(4), I32_MUL, I32_ADD, ...o.i32load(0), ...o.i32(4), I32_MUL, I32_ADD, ...o.set(PE),
      ...o.get(IDX), ...o.get(PTR), ...o.get(R), ...o.i32(4), I32_MUL, I32_ADD, ...o.i32load(4), ...o.i32(4), I32_MUL, I32_ADD, ...o.set(PE_END),
      ...o.get(A), ...o.get(R), ...o.get(ROW_BYTES), I32_MUL, I32_ADD, ...o.set(PA),
      ...o.get(PA), ...o.get(ROW_BYTES), I32_ADD, ...o.set(QEND),
      ...o.whileLess(PE, PE_END, entry),
      ...o.addTo(R, o.i32(1)),
    ]),
  ];
}

/** The sddmm bound to `memory`; null where the engine lacks wasm SIMD. */
export const sddmmFor: (memory: WasmMemory) => Sddmm | null = perMemory((memory) =>
  assemble(
    'sddmm',
    Array<number>(8).fill(I32),
    [
      [I32_LOCALS, I32],
      [2, V128],
    ],
    code(),
    memory,
  ),
);
