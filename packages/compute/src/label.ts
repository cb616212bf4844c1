import * as tf from '@tensorflow/tfjs-core';
import { nativeBlasActive } from './wasm/gemm/native';

/**
 * The active backend as a run records it: `wasm+openblas` when the wasm backend's dense products
 * go to OpenBLAS (LTH_NATIVE_BLAS=1), whose rounding differs from the wasm gemm's, so that two
 * runs of one seed that differ in their last bits say why.
 */
export function backendLabel(): string {
  const name = tf.getBackend();
  return name === 'wasm' && nativeBlasActive() ? 'wasm+openblas' : name;
}
