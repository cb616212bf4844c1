import type { TensorInfo } from '@tensorflow/tfjs-core';
import type { HeapBackend, WasmBackendLike } from '../kernel';
import { sddmmFor, type Sddmm } from './sddmm';
import { spmmGatherFor, type SpmmGather } from './spmm-gather';
import { spmmScatterFor, type SpmmScatter } from './spmm-scatter';
import { transposeFor, type Transpose4 } from './transpose';

/** The slice of tfjs-backend-wasm's BackendWasm the sparse kernels use. */
export interface SparseHeapBackend extends HeapBackend, WasmBackendLike {
  typedArrayFromHeap(t: TensorInfo): Float32Array;
}

/** The hand-assembled functions of the sparse kernels, bound to one wasm memory. */
export interface SparseKernels {
  spmmGather: SpmmGather;
  spmmScatter: SpmmScatter;
  sddmm: Sddmm;
  transpose: Transpose4;
}

/** The sparse kernels for `memory`; null where the engine lacks wasm SIMD. */
export function sparseKernelsFor(memory: object | undefined): SparseKernels | null {
  if (memory === undefined) return null;
  const [spmmGather, spmmScatter, sddmm, transpose] = [spmmGatherFor(memory), spmmScatterFor(memory), sddmmFor(memory), transposeFor(memory)];
  return spmmGather && spmmScatter && sddmm && transpose ? { spmmGather, spmmScatter, sddmm, transpose } : null;
}

/** The backend as the sparse kernels use it, and their functions; an error naming `kernel` without SIMD. */
export function heapOf(backend: unknown, kernel: string): { heap: SparseHeapBackend; kernels: SparseKernels } {
  const heap = backend as SparseHeapBackend;
  const kernels = sparseKernelsFor(heap.wasm.asm?.memory);
  if (!kernels) throw new Error(`wasm-kernels ${kernel}: this engine has no wasm SIMD (check maskedMatMulAvailable() and use the dense product)`);
  return { heap, kernels };
}

/** The shape of a 2-d float32 input, or an error naming the kernel and the input. */
export function matrix(kernel: string, t: TensorInfo, label: string): [number, number] {
  if (t.shape.length !== 2 || t.dtype !== 'float32')
    throw new Error(`wasm-kernels ${kernel}: ${label} must be a 2-d float32 tensor, got ${t.dtype} [${t.shape}]`);
  return t.shape as [number, number];
}
