/**
 * Helpers to hand-assemble tiny WebAssembly modules that import tfjs-backend-wasm's memory
 * (no toolchain here compiles C to wasm, and the functions needed are a few dozen
 * instructions), so they work on tensors in place without copies through JS.
 */

/** The WebAssembly API (the project's TypeScript libs do not declare it). */
interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
}
/** A WebAssembly.Memory (tfjs-backend-wasm's: `backend.wasm.asm.memory`). */
export type WasmMemory = object;

export const I32 = 0x7f;
export const F32 = 0x7d;
export const V128 = 0x7b;

export function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return out;
}
export const vec = (items: number[][]) => [...uleb(items.length), ...items.flat()];
const section = (id: number, body: number[]) => [id, ...uleb(body.length), ...body];
const name = (s: string) => vec([...s].map((c) => [c.charCodeAt(0)]));
export const get = (i: number) => [0x20, ...uleb(i)];
export const set = (i: number) => [0x21, ...uleb(i)];

/**
 * A module of one exported function `fn` with `params` (value types), no result, locals
 * `locals` ([count, type] pairs) and `code` (the body, without the final `end`), importing
 * env.memory. Null if the engine rejects it (e.g. no SIMD).
 */
export function assemble(fn: string, params: number[], locals: [number, number][], code: number[], memory: WasmMemory): ((...args: number[]) => void) | null {
  const wasm = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;
  const body = [...vec(locals.map(([n, t]) => [...uleb(n), t])), ...code, 0x0b];
  const bytes = Uint8Array.from([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(1, vec([[0x60, ...vec(params.map((t) => [t])), 0]])),
    ...section(2, vec([[...name('env'), ...name('memory'), 0x02, 0x00, 0x00]])), // memory, min 0 pages, no max
    ...section(3, vec([[0]])),
    ...section(7, vec([[...name(fn), 0x00, 0]])),
    ...section(10, vec([[...uleb(body.length), ...body]])),
  ]);
  if (!wasm?.validate(bytes)) return null;
  return new wasm.Instance(new wasm.Module(bytes), { env: { memory } }).exports[fn] as (...args: number[]) => void;
}

/** `make(memory)` once per memory. */
export function perMemory<T>(make: (memory: WasmMemory) => T): (memory: WasmMemory) => T {
  const cache = new WeakMap<WasmMemory, T>();
  return (memory) => {
    if (!cache.has(memory)) cache.set(memory, make(memory));
    return cache.get(memory)!;
  };
}
