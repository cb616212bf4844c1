import * as tf from '@tensorflow/tfjs-core';
import { heapBuffer, heapOffset, type WasmHeap } from '../native-heap';
import { nativeSgemm } from './native';

/**
 * A float32 tensor [rows.length, ...imageShape] of the images `rows` through the per-channel
 * table `lut` (as `nativeNormalizeRows`), made directly on tfjs-backend-wasm's heap; null when
 * native products are off or the backend is not wasm (the caller fills a JS array instead).
 * Why: a JS Float32Array per training batch (188 KB for MNIST's 60) was ~376 MB of external
 * memory per 2,000-step training, and V8 answers external memory with major collections (19
 * in 9 s, their concurrent marking ~6% of the CPU).
 */
export function nativeNormalizedBatch(images: Uint8Array, rows: Int32Array, imageShape: readonly number[], lut: Float32Array): tf.Tensor | null {
  const addon = nativeSgemm();
  if (!addon?.normalizeRows || tf.getBackend() !== 'wasm') return null;
  const size = imageShape.reduce((a, b) => a * b, 1);
  const channels = imageShape[imageShape.length - 1] ?? 1;
  const backend = tf.backend() as unknown as WasmHeap;
  const out = backend.makeOutput([rows.length, ...imageShape], 'float32');
  try {
    // The view is made after the allocation, which may have grown (and so replaced) the buffer.
    const view = new Float32Array(heapBuffer(backend), heapOffset(backend, out), rows.length * size);
    addon.normalizeRows(images, rows, size, channels, lut, view);
  } catch (err) {
    tf.backend().disposeData(out.dataId);
    throw err;
  }
  return tf.engine().makeTensorFromTensorInfo(out);
}
