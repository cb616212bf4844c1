import { assembleModule, instantiate, type WasmMemory, type WasmModule } from '../asm';
import { I32, V128 } from '../opcodes';
import { ops as o } from '../ops';

/**
 * The Winograd transforms are all one shape of computation: out = L . D . L^T for a small
 * constant matrix L (r x s) and an s x s block D, with every entry of D and out an f32x4 of
 * four neighbouring channels. This assembles such a transform into a wasm SIMD function
 * with L's coefficients and the block's memory layout (byte offsets of D[a][b] from the source
 * pointer and of out[i][j] from the destination pointer) compiled in as constants:
 *
 *   fn(src, dst, outer, srcStep, dstStep, inner)
 *     repeat outer times:  repeat inner times: one block, then src += 16, dst += 16
 *                          then src, dst = their values at the start of this pass + srcStep, dstStep
 */
export type Sandwich = (src: number, dst: number, outer: number, srcStep: number, dstStep: number, inner: number) => void;

export interface SandwichLayout {
  /** L, r rows of s coefficients. */
  matrix: readonly (readonly number[])[];
  /** Byte offset of D[a][b] from the block's source pointer (a, b < s). */
  srcOffset(a: number, b: number): number;
  /** Byte offset of out[i][j] from the block's destination pointer (i, j < r). */
  dstOffset(i: number, j: number): number;
}

const [SRC, DST, OUTER, SRC_STEP, DST_STEP, INNER] = [0, 1, 2, 3, 4, 5];
const [S, D, K] = [6, 7, 8];
const FIRST_V128 = 9;

/** Bytes pushing sum_t coef_t * value_t (values: local indices), with ±1 as plain add/sub. */
function combination(terms: [number, number][], constLocal: Map<number, number>): number[] {
  const nonzero = terms.filter(([c]) => c !== 0);
  const scaled = (c: number, local: number) => (Math.abs(c) === 1 ? o.get(local) : [...o.get(local), ...o.get(constLocal.get(Math.abs(c))!), ...o.f32x4Mul]);
  const firstPositive = nonzero.findIndex(([c]) => c > 0);
  const out: number[] = firstPositive >= 0 ? scaled(nonzero[firstPositive]![0], nonzero[firstPositive]![1]) : [...o.v128Zero];
  nonzero.forEach(([c, local], i) => {
    if (i === firstPositive) return;
    out.push(...scaled(c, local), ...(c > 0 ? o.f32x4Add : o.f32x4Sub));
  });
  return out;
}

function code(layout: SandwichLayout): { code: number[]; v128Locals: number } {
  const L = layout.matrix;
  const r = L.length;
  const s = L[0]!.length;
  const dLocal = (a: number, b: number) => FIRST_V128 + a * s + b;
  const tLocal = (i: number, b: number) => FIRST_V128 + s * s + i * s + b;
  const consts = [
    ...new Set(
      L.flat()
        .map(Math.abs)
        .filter((c) => c !== 0 && c !== 1),
    ),
  ];
  const constLocal = new Map(consts.map((c, i) => [c, FIRST_V128 + s * s + r * s + i]));
  const block: number[] = [];
  for (let a = 0; a < s; a++) {
    for (let b = 0; b < s; b++) block.push(...o.get(S), ...o.v128load(layout.srcOffset(a, b)), ...o.set(dLocal(a, b)));
  }
  // T[i][b] = sum_a L[i][a] D[a][b]
  for (let i = 0; i < r; i++) {
    for (let b = 0; b < s; b++) {
      block.push(
        ...combination(
          L[i]!.map((c, a) => [c, dLocal(a, b)]),
          constLocal,
        ),
        ...o.set(tLocal(i, b)),
      );
    }
  }
  // out[i][j] = sum_b T[i][b] L[j][b]
  for (let i = 0; i < r; i++) {
    for (let j = 0; j < r; j++) {
      block.push(
        ...o.get(D),
        ...combination(
          L[j]!.map((c, b) => [c, tLocal(i, b)]),
          constLocal,
        ),
        ...o.v128store(layout.dstOffset(i, j)),
      );
    }
  }
  // prettier-ignore
  const body = [
    ...consts.flatMap((c) => [...o.f32Const(c), ...o.f32x4Splat, ...o.set(constLocal.get(c)!)]),
    ...o.doWhileCountdown(OUTER, [
      ...o.get(SRC), ...o.set(S),
      ...o.get(DST), ...o.set(D),
      ...o.get(INNER), ...o.set(K),
      ...o.doWhileCountdown(K, [...block, ...o.addTo(S, o.i32(16)), ...o.addTo(D, o.i32(16))]),
      ...o.addTo(SRC, o.get(SRC_STEP)),
      ...o.addTo(DST, o.get(DST_STEP)),
    ]),
  ];
  return { code: body, v128Locals: s * s + r * s + consts.length };
}

/**
 * The transform for `layout`, compiled for a plain memory or (`shared`) for the worker
 * threads' shared arena; null where the engine lacks wasm SIMD.
 */
export function sandwichModule(layout: SandwichLayout, shared = false): WasmModule | null {
  const { code: body, v128Locals } = code(layout);
  const locals: [number, number][] = [
    [3, I32],
    [v128Locals, V128],
  ];
  return assembleModule('sandwich', Array<number>(6).fill(I32), locals, body, shared);
}

/** Assembles the transform for `layout` over `memory`; null where the engine lacks wasm SIMD. */
export function assembleSandwich(layout: SandwichLayout, memory: WasmMemory): Sandwich | null {
  const module = sandwichModule(layout);
  return module && (instantiate(module, 'sandwich', memory) as Sandwich);
}
