import type * as tf from '@tensorflow/tfjs-core';
import type { TensorInfo } from '@tensorflow/tfjs-core';

// Where the native addon's callers (mlp/native-chain.ts, gemm/native-batch.ts) find tensors on
// tfjs-backend-wasm's heap: the addon works on that ArrayBuffer in place.

/** The parts of tfjs-backend-wasm's backend object the native callers use. */
export interface WasmHeap {
  dataIdMap: { has(dataId: object): boolean; get(dataId: object): { memoryOffset: number } };
  refCount(dataId: object): number;
  wasm: { asm?: { memory?: { buffer: ArrayBuffer } } };
  makeOutput(shape: number[], dtype: 'float32'): TensorInfo;
}

/** An absent operand in the addon's descriptors. */
export const NONE = 0xffffffff;

/** The byte offset of a float32 tensor's data on the wasm heap, NONE for undefined. */
export function heapOffset(backend: WasmHeap, t: tf.Tensor | TensorInfo | undefined, dtype: 'float32' | 'int32' = 'float32'): number {
  if (!t) return NONE;
  if (t.dtype !== dtype) throw new Error(`native products: a ${t.dtype} tensor where ${dtype} is needed`);
  if (!backend.dataIdMap.has(t.dataId)) throw new Error('native products: a tensor is not on the wasm backend');
  return backend.dataIdMap.get(t.dataId).memoryOffset;
}

/** The heap itself (re-read after any allocation: growing the memory replaces it). */
export function heapBuffer(backend: WasmHeap): ArrayBuffer {
  const memory = backend.wasm.asm?.memory;
  if (!memory) throw new Error('native products: the wasm backend exposes no memory');
  return memory.buffer;
}
