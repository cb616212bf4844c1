import { get, set, uleb } from './asm';
import {
  BLOCK,
  BLOCK_EMPTY,
  BR,
  BR_IF,
  END,
  F32_ADD,
  F32_CONST,
  F32_STORE,
  F32X4_ADD,
  F32X4_DIV,
  F32X4_EXTRACT_LANE,
  F32X4_MUL,
  F32X4_SPLAT,
  F32X4_SQRT,
  F32X4_SUB,
  I32_ADD,
  I32_CONST,
  I32_GE_U,
  I32_LOAD,
  I8X16_SHUFFLE,
  I32_MUL,
  I32_SUB,
  LOCAL_TEE,
  LOOP,
  V128_CONST,
  V128_LOAD,
  V128_LOAD32_SPLAT,
  V128_STORE,
} from './opcodes';

/** Signed LEB128, for i32.const. */
function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

const memarg = (offset: number) => [0, ...uleb(offset)]; // alignment hint 1: any address is valid

/**
 * Instruction encodings for the hand-assembled kernels: each returns the bytes of one
 * instruction (or a short, named sequence), so kernel code reads as a list of steps.
 */
export const ops = {
  get,
  set,
  tee: (i: number) => [LOCAL_TEE, ...uleb(i)],
  i32: (v: number) => [I32_CONST, ...sleb(v | 0)],
  i32Add: [I32_ADD],
  i32Sub: [I32_SUB],
  i32Mul: [I32_MUL],
  /** local += value (value: the bytes that push one i32). */
  addTo: (local: number, value: number[]) => [...get(local), ...value, I32_ADD, ...set(local)],
  i32load: (offset: number) => [I32_LOAD, ...memarg(offset)],
  f32store: (offset: number) => [F32_STORE, ...memarg(offset)],
  f32Add: [F32_ADD],
  f32x4ExtractLane: (lane: number) => [...F32X4_EXTRACT_LANE, lane],
  v128load: (offset: number) => [...V128_LOAD, ...memarg(offset)],
  v128load32Splat: (offset: number) => [...V128_LOAD32_SPLAT, ...memarg(offset)],
  v128store: (offset: number) => [...V128_STORE, ...memarg(offset)],
  /** A result of 32-bit lanes picked from two vectors: lane indices 0-3 from the first, 4-7 from the second. */
  f32x4Shuffle: (lanes: [number, number, number, number]) => [...I8X16_SHUFFLE, ...lanes.flatMap((l) => [4 * l, 4 * l + 1, 4 * l + 2, 4 * l + 3])],
  v128Zero: [...V128_CONST, ...Array<number>(16).fill(0)],
  f32x4Splat: [...F32X4_SPLAT],
  f32x4Add: [...F32X4_ADD],
  f32x4Sub: [...F32X4_SUB],
  f32x4Mul: [...F32X4_MUL],
  f32x4Div: [...F32X4_DIV],
  f32x4Sqrt: [...F32X4_SQRT],
  f32Const: (v: number) => {
    const bytes = new Uint8Array(new Float32Array([v]).buffer);
    return [F32_CONST, ...bytes];
  },
  /** while (local < limit) body; both i32 locals, compared unsigned. */
  // prettier-ignore
  whileLess: (local: number, limit: number, body: number[]) => [
    BLOCK, BLOCK_EMPTY, LOOP, BLOCK_EMPTY,
    ...get(local), ...get(limit), I32_GE_U, BR_IF, 1, // local >= limit: break
    ...body,
    BR, 0, END, END, // br loop; end; end
  ],
  /** do { body } while (--counter !== 0): runs `counter` times, which must be >= 1. */
  // prettier-ignore
  doWhileCountdown: (counter: number, body: number[]) => [
    LOOP, BLOCK_EMPTY,
    ...body,
    ...get(counter), I32_CONST, 1, I32_SUB, LOCAL_TEE, ...uleb(counter), BR_IF, 0, // br_if (counter = counter - 1 [tee]) != 0
    END,
  ],
};
