import { assemble, perMemory, type WasmMemory } from '../asm';
import { I32, I32_ADD, I32_MUL, V128 } from '../opcodes';
import { ops as o } from '../ops';

/**
 * A hand-assembled WebAssembly SIMD transpose in 4x4 blocks (four loads, eight shuffles, four
 * stores), for the sparse kernels' batch-minor copies: a plain JS loop moves ~3 ns a value, a
 * LeNet step moves ~200K.
 *
 *   transpose(src, dst, rows, cols, srcRowBytes, dstRowBytes)
 *   dst[j, i] = src[i, j]   for i < rows, j < cols, both multiples of 4 (byte pointers and strides)
 */
export type Transpose4 = (...args: number[]) => void;

const [SRC, DST, ROWS, COLS, SRC_ROW, DST_ROW] = [0, 1, 2, 3, 4, 5];
// i32 locals
const [I, J, PS, PD] = [6, 7, 8, 9];
// v128 locals
const [R0, R1, R2, R3, T0, T1, T2, T3] = [10, 11, 12, 13, 14, 15, 16, 17];

function code(): number[] {
  const shuffle = (a: number, b: number, lanes: [number, number, number, number], to: number) => [
    ...o.get(a),
    ...o.get(b),
    ...o.f32x4Shuffle(lanes),
    ...o.set(to),
  ];
  // src row r of the block: ps + r*srcRow
  const loadRow = (r: number, to: number) => [...o.get(PS), ...o.get(SRC_ROW), ...o.i32(r), I32_MUL, I32_ADD, ...o.v128load(0), ...o.set(to)];
  const storeRow = (r: number, from: number) => [...o.get(PD), ...o.get(DST_ROW), ...o.i32(r), I32_MUL, I32_ADD, ...o.get(from), ...o.v128store(0)];
  // prettier-ignore
  const block = [
    // ps = src + i*srcRow + j*4; pd = dst + j*dstRow + i*4
    ...o.get(SRC), ...o.get(I), ...o.get(SRC_ROW), I32_MUL, I32_ADD, ...o.get(J), ...o.i32(4), I32_MUL, I32_ADD, ...o.set(PS),
    ...o.get(DST), ...o.get(J), ...o.get(DST_ROW), I32_MUL, I32_ADD, ...o.get(I), ...o.i32(4), I32_MUL, I32_ADD, ...o.set(PD),
    ...loadRow(0, R0), ...loadRow(1, R1), ...loadRow(2, R2), ...loadRow(3, R3),
    // t0 = (r0[0], r1[0], r0[1], r1[1]), t1 = (r0[2], r1[2], r0[3], r1[3]); t2, t3 likewise from r2, r3
    ...shuffle(R0, R1, [0, 4, 1, 5], T0), ...shuffle(R0, R1, [2, 6, 3, 7], T1),
    ...shuffle(R2, R3, [0, 4, 1, 5], T2), ...shuffle(R2, R3, [2, 6, 3, 7], T3),
    // column c of the block = (r0[c], r1[c], r2[c], r3[c]); the r registers are free again
    ...shuffle(T0, T2, [0, 1, 4, 5], R0), ...shuffle(T0, T2, [2, 3, 6, 7], R1),
    ...shuffle(T1, T3, [0, 1, 4, 5], R2), ...shuffle(T1, T3, [2, 3, 6, 7], R3),
    ...storeRow(0, R0), ...storeRow(1, R1), ...storeRow(2, R2), ...storeRow(3, R3),
  ];
  // prettier-ignore
  return [
    ...o.i32(0), ...o.set(I),
    ...o.whileLess(I, ROWS, [
      ...o.i32(0), ...o.set(J),
      ...o.whileLess(J, COLS, [...block, ...o.addTo(J, o.i32(4))]),
      ...o.addTo(I, o.i32(4)),
    ]),
  ];
}

/** The transpose bound to `memory`; null where the engine lacks wasm SIMD. */
export const transposeFor: (memory: WasmMemory) => Transpose4 | null = perMemory((memory) =>
  assemble(
    'transpose',
    Array<number>(6).fill(I32),
    [
      [4, I32],
      [8, V128],
    ],
    code(),
    memory,
  ),
);

/** A float32 region of the heap: its view and its byte offset there. */
export interface HeapMatrix {
  view: Float32Array;
  offset: number;
  /** Floats from one row to the next. */
  rowLength: number;
}

/**
 * dst[j, i] = src[i, j] for i < rows, j < cols: the 4-aligned block by `simd`, the edges in JS.
 */
export function transposeInto(simd: Transpose4, src: HeapMatrix, dst: HeapMatrix, rows: number, cols: number): void {
  const rows4 = rows - (rows % 4);
  const cols4 = cols - (cols % 4);
  if (rows4 > 0 && cols4 > 0) simd(src.offset, dst.offset, rows4, cols4, src.rowLength * 4, dst.rowLength * 4);
  const s = src.view;
  const d = dst.view;
  for (let i = 0; i < rows; i++) {
    // Columns past cols4 in every row, and every column of the rows past rows4.
    for (let j = i < rows4 ? cols4 : 0; j < cols; j++) d[j * dst.rowLength + i] = s[i * src.rowLength + j]!;
  }
}
