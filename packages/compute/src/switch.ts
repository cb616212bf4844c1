import * as tf from '@tensorflow/tfjs-core';
import { type BackendName, loadBackendModule, quietCpuBackend } from './backend';
import { registerWasmKernels } from './wasm/register';

/**
 * Runs `fn` on backend `name` and switches back to the previous backend afterwards, even when
 * `fn` throws. For tests and benchmarks that compare backends in one process; the engine's
 * recorded choice (initBackend) is left alone.
 */
export async function withBackend<T>(name: BackendName, fn: () => T | Promise<T>): Promise<T> {
  if (!loadBackendModule(name)) throw new Error(`withBackend: backend '${name}' cannot be loaded`);
  if (name === 'wasm') registerWasmKernels();
  const previous = tf.getBackend();
  if (!(await tf.setBackend(name))) throw new Error(`withBackend: tfjs could not initialize backend '${name}'`);
  await tf.ready();
  quietCpuBackend();
  try {
    return await fn();
  } finally {
    if (previous && previous !== name) await tf.setBackend(previous);
  }
}

/**
 * A copy of `t` whose data lives on the active backend. tfjs would move data lazily on first
 * use; copying explicitly keeps the source tensor usable on its own backend and makes the
 * transfer visible where it happens.
 */
export function toActiveBackend<T extends tf.Tensor>(t: T): T {
  return tf.tensor(t.dataSync(), t.shape, t.dtype) as T;
}
