import { get, set, uleb } from './wasm-asm';

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

const simd = (op: number) => [0xfd, ...uleb(op)];
const memarg = (offset: number) => [0, ...uleb(offset)]; // alignment hint 1: any address is valid

/**
 * Instruction encodings for the hand-assembled kernels: each returns the bytes of one
 * instruction (or a short, named sequence), so kernel code reads as a list of steps.
 */
export const ops = {
  get,
  set,
  tee: (i: number) => [0x22, ...uleb(i)],
  i32: (v: number) => [0x41, ...sleb(v | 0)],
  i32Add: [0x6a],
  i32Sub: [0x6b],
  i32Mul: [0x6c],
  /** local += value (value: the bytes that push one i32). */
  addTo: (local: number, value: number[]) => [...get(local), ...value, 0x6a, ...set(local)],
  v128load: (offset: number) => [...simd(0x00), ...memarg(offset)],
  v128load32Splat: (offset: number) => [...simd(0x09), ...memarg(offset)],
  v128store: (offset: number) => [...simd(0x0b), ...memarg(offset)],
  v128Zero: [...simd(0x0c), ...Array<number>(16).fill(0)],
  f32x4Splat: simd(0x13),
  f32x4Add: simd(0xe4),
  f32x4Sub: simd(0xe5),
  f32x4Mul: simd(0xe6),
  f32x4Div: simd(0xe7),
  f32x4Sqrt: simd(0xe3),
  f32Const: (v: number) => {
    const bytes = new Uint8Array(new Float32Array([v]).buffer);
    return [0x43, ...bytes];
  },
  /** while (local < limit) body; both i32 locals, compared unsigned. */
  whileLess: (local: number, limit: number, body: number[]) => [
    0x02, 0x40, 0x03, 0x40, // block, loop
    ...get(local), ...get(limit), 0x4f, 0x0d, 1, // local >= limit: break
    ...body,
    0x0c, 0, 0x0b, 0x0b, // br loop; end; end
  ],
  /** do { body } while (--counter !== 0): runs `counter` times, which must be >= 1. */
  doWhileCountdown: (counter: number, body: number[]) => [
    0x03, 0x40,
    ...body,
    ...get(counter), 0x41, 1, 0x6b, 0x22, ...uleb(counter), 0x0d, 0, // br_if (counter = counter - 1 [tee]) != 0
    0x0b,
  ],
};
