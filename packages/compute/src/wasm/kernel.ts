import * as tf from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';
import type { WasmMemory } from './asm';

/**
 * What every file under kernels/ uses: the kernel description the registration list takes, the
 * slices of tfjs-backend-wasm's BackendWasm the kernels touch, and the helpers that run other
 * wasm kernels and free their intermediates.
 */

export const WASM = 'wasm';

/**
 * One kernel of ours, as tfjs-backend-wasm's `kernels/<Kernel>.ts` export a KernelConfig. Ours
 * usually wrap what tfjs-backend-wasm registered (the fallback for the cases they do not speed
 * up), so the kernel function is made from that original when registering (register.ts).
 */
export interface WasmKernelConfig {
  kernelName: string;
  /** The kernel function, given tfjs-backend-wasm's own kernel of that name (undefined: it has none). */
  makeKernelFunc(original: KernelConfig | undefined): KernelFunc;
}

/** The slice of the wasm backend that frees buffers. */
export interface WasmBackendLike {
  disposeData(dataId: object, force?: boolean): boolean;
}

/** The slice of tfjs-backend-wasm's BackendWasm used to work on its heap directly. */
export interface HeapBackend {
  dataIdMap: { get(dataId: object): { memoryOffset: number } };
  wasm: { asm?: { memory?: WasmMemory } };
  makeOutput(shape: number[], dtype: 'float32'): TensorInfo;
}

/** Runs another wasm kernel on a backend already chosen (see `bindCall`). */
export type BoundCall = (name: string, inputs: Record<string, TensorInfo> | TensorInfo[], attrs: NamedAttrMap) => TensorInfo;

/** Runs the wasm backend's kernel `name` (ours, if registered) on `inputs`. */
export function call(name: string, backend: WasmBackendLike, inputs: Record<string, TensorInfo> | TensorInfo[], attrs: NamedAttrMap): TensorInfo {
  const kernel = tf.getKernel(name, WASM);
  if (!kernel) throw new Error(`wasm-kernels: the wasm backend has no '${name}' kernel (is @tensorflow/tfjs-backend-wasm loaded?)`);
  return kernel.kernelFunc({ inputs: inputs as Record<string, TensorInfo>, backend: backend as never, attrs }) as TensorInfo;
}

/** `call` bound to `backend`. */
export function bindCall(backend: WasmBackendLike): BoundCall {
  return (name, inputs, attrs) => call(name, backend, inputs, attrs);
}

/** A view of the same wasm buffer with another shape (row-major, so no data moves). */
export function view(t: TensorInfo, shape: number[]): TensorInfo {
  return { dataId: t.dataId, shape, dtype: t.dtype };
}

/**
 * Runs `steps` with a scratch list: every intermediate pushed on it is freed afterwards, on
 * success or error, except the one returned.
 */
export function scoped(backend: WasmBackendLike, steps: (keep: (t: TensorInfo) => TensorInfo) => TensorInfo): TensorInfo {
  const scratch: TensorInfo[] = [];
  let result: TensorInfo | undefined;
  try {
    result = steps((t) => {
      scratch.push(t);
      return t;
    });
    return result;
  } finally {
    for (const t of scratch) if (t.dataId !== result?.dataId) backend.disposeData(t.dataId);
  }
}

/** The original kernel a wrapper falls back to; an error when tfjs-backend-wasm has none. */
export function required(name: string, original: KernelConfig | undefined): KernelConfig {
  if (!original) throw new Error(`wasm-kernels: tfjs-backend-wasm registered no '${name}' kernel to wrap`);
  return original;
}
