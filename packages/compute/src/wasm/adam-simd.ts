import { assemble, get, perMemory, set, type WasmMemory } from './asm';
import { BLOCK, BLOCK_EMPTY, BR, BR_IF, END, F32, I32, I32_ADD, I32_AND, I32_CONST, I32_GE_U, IF, LOOP, V128 } from './opcodes';
import { ops } from './ops';

/**
 * A hand-assembled WebAssembly SIMD function that runs one Adam step over tfjs-backend-wasm's
 * own memory (imported, so no data is copied): f32x4 operations round every result to float32
 * exactly as the per-op kernels do, so it is bit-identical to them, in one pass instead of ~14
 * (no toolchain here can compile C to wasm; the function is 60 instructions).
 *
 * adam(p, m, v, g, k, pOut, mOut, vOut, bytes, flags, b1, 1-b1, b2, 1-b2, eps, step, sqrtBc2, wd)
 * with byte offsets into the memory, `bytes` a multiple of 16, flags bit 0: masked (k), bit 1:
 * weight decay. Per element, in the ops' order:
 *   g' = (g + p*wd) * k;  m' = m*b1 + g'*(1-b1);  v' = v*b2 + (g'*g')*(1-b2)
 *   p' = (p - (m' / (sqrt(v') / sqrtBc2 + eps)) * step) * k + 0
 */
export type AdamSimd = (...args: number[]) => void;
export type { WasmMemory };

// Params 0-9 (i32): p m v g k pOut mOut vOut bytes flags; 10-17 (f32): the scalars.
const [P, M, V, G, K, PO, MO, VO, BYTES, FLAGS] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
const SCALARS = [10, 11, 12, 13, 14, 15, 16, 17];
// Locals: 18 the byte offset (i32); 19-33 v128.
const OFF = 18;
const [PV, GI, KV, MI, VI, NEXT] = [19, 20, 21, 22, 23, 24];
const [B1, OB1, B2, OB2, EPS, STEP, SB2, WD] = [25, 26, 27, 28, 29, 30, 31, 32];
const ZERO = 33;

const { f32x4Add: ADD, f32x4Sub: SUB, f32x4Mul: MUL, f32x4Div: DIV, f32x4Sqrt: SQRT, f32x4Splat: SPLAT } = ops;
const at = (base: number) => [...get(base), ...get(OFF), I32_ADD]; // base + off
const load = (base: number) => [...at(base), ...ops.v128load(0)];
const store = (base: number, value: number) => [...at(base), ...get(value), ...ops.v128store(0)];
const ifFlag = (bit: number, body: number[]) => [...get(FLAGS), I32_CONST, bit, I32_AND, IF, BLOCK_EMPTY, ...body, END];

function code(): number[] {
  // prettier-ignore
  return [
    ...SCALARS.flatMap((s, i) => [...get(s), ...SPLAT, ...set(B1 + i)]),
    ...ops.f32Const(0), ...SPLAT, ...set(ZERO), // +0
    ...[I32_CONST, 0], ...set(OFF),
    ...[BLOCK, BLOCK_EMPTY, LOOP, BLOCK_EMPTY],
    ...get(OFF), ...get(BYTES), I32_GE_U, BR_IF, 1, // off >= bytes: break
    ...load(P), ...set(PV),
    ...load(G), ...set(GI),
    ...ifFlag(2, [...get(GI), ...get(PV), ...get(WD), ...MUL, ...ADD, ...set(GI)]),
    ...ifFlag(1, [...load(K), ...set(KV), ...get(GI), ...get(KV), ...MUL, ...set(GI)]),
    ...load(M), ...get(B1), ...MUL, ...get(GI), ...get(OB1), ...MUL, ...ADD, ...set(MI),
    ...load(V), ...get(B2), ...MUL, ...get(GI), ...get(GI), ...MUL, ...get(OB2), ...MUL, ...ADD, ...set(VI),
    ...get(PV), ...get(MI), ...get(VI), ...SQRT, ...get(SB2), ...DIV, ...get(EPS), ...ADD, ...DIV, ...get(STEP), ...MUL, ...SUB, ...set(NEXT),
    ...ifFlag(1, [...get(NEXT), ...get(KV), ...MUL, ...get(ZERO), ...ADD, ...set(NEXT)]),
    ...store(MO, MI), ...store(VO, VI), ...store(PO, NEXT),
    ...get(OFF), I32_CONST, 16, I32_ADD, ...set(OFF), // off += 16
    BR, 0, END, END, // br loop; end loop; end block
  ];
}

/** The SIMD Adam bound to `memory`; null where the engine lacks wasm SIMD. */
export const adamSimdFor: (memory: WasmMemory) => AdamSimd | null = perMemory((memory) =>
  assemble(
    'adam',
    [...Array<number>(10).fill(I32), ...Array<number>(8).fill(F32)],
    [
      [1, I32],
      [15, V128],
    ],
    code(),
    memory,
  ),
);
