/**
 * Helpers to hand-assemble tiny WebAssembly modules that import tfjs-backend-wasm's memory
 * (no toolchain here compiles C to wasm, and the functions needed are a few dozen
 * instructions), so they work on tensors in place without copies through JS.
 */
import {
  END,
  EXTERNAL_FUNC,
  EXTERNAL_MEMORY,
  FUNC_TYPE,
  LIMITS_MIN_ONLY,
  LIMITS_SHARED,
  LOCAL_GET,
  LOCAL_SET,
  MAGIC,
  SECTION_CODE,
  SECTION_EXPORT,
  SECTION_FUNCTION,
  SECTION_IMPORT,
  SECTION_TYPE,
  VERSION,
} from './opcodes';

/** The WebAssembly API (the project's TypeScript libs do not declare it). */
interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
}
/** A WebAssembly.Memory (tfjs-backend-wasm's: `backend.wasm.asm.memory`). */
export type WasmMemory = object;
/** A compiled WebAssembly.Module (structured-cloneable: worker threads instantiate it too). */
export type WasmModule = object;
const wasmApi = () => (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;

/** Unsigned LEB128: 7 bits a byte, low first, the high bit set on all but the last. */
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
export const get = (i: number) => [LOCAL_GET, ...uleb(i)];
export const set = (i: number) => [LOCAL_SET, ...uleb(i)];

/**
 * A compiled module of one exported function `fn` with `params` (value types), no result,
 * locals `locals` ([count, type] pairs) and `code` (the body, without the final `end`),
 * importing env.memory: a plain one (tfjs-backend-wasm's), or with `shared` a shared one of
 * at most 65536 pages (the worker threads' arena, threads/pool.ts: wasm checks the memory's
 * shared flag against the import's). Null if the engine rejects it (e.g. no SIMD).
 */
export function assembleModule(fn: string, params: number[], locals: [number, number][], code: number[], shared = false): WasmModule | null {
  const limits = shared ? [LIMITS_SHARED, 0, ...uleb(65536)] : [LIMITS_MIN_ONLY, 0]; // min 0 pages
  const body = [...vec(locals.map(([n, t]) => [...uleb(n), t])), ...code, END];
  const bytes = Uint8Array.from([
    ...MAGIC,
    ...VERSION,
    ...section(SECTION_TYPE, vec([[FUNC_TYPE, ...vec(params.map((t) => [t])), 0]])), // type 0: params -> no results
    ...section(SECTION_IMPORT, vec([[...name('env'), ...name('memory'), EXTERNAL_MEMORY, ...limits]])),
    ...section(SECTION_FUNCTION, vec([[0]])), // function 0 has type 0
    ...section(SECTION_EXPORT, vec([[...name(fn), EXTERNAL_FUNC, 0]])), // exported as `fn`
    ...section(SECTION_CODE, vec([[...uleb(body.length), ...body]])),
  ]);
  if (!wasmApi()?.validate(bytes)) return null;
  return new (wasmApi() as WasmApi).Module(bytes);
}

/** The function `fn` of `module` (from assembleModule) bound to `memory`. */
export function instantiate(module: WasmModule, fn: string, memory: WasmMemory): (...args: number[]) => void {
  return new (wasmApi() as WasmApi).Instance(module, { env: { memory } }).exports[fn] as (...args: number[]) => void;
}

/** assembleModule, instantiated on `memory`. Null if the engine rejects it (e.g. no SIMD). */
export function assemble(fn: string, params: number[], locals: [number, number][], code: number[], memory: WasmMemory): ((...args: number[]) => void) | null {
  const module = assembleModule(fn, params, locals, code);
  return module && instantiate(module, fn, memory);
}

/** `make(memory)` once per memory. */
export function perMemory<T>(make: (memory: WasmMemory) => T): (memory: WasmMemory) => T {
  const cache = new WeakMap<WasmMemory, T>();
  return (memory) => {
    if (!cache.has(memory)) cache.set(memory, make(memory));
    return cache.get(memory)!;
  };
}
