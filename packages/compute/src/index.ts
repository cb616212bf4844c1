import * as tf from '@tensorflow/tfjs-core';
import { registerGradients } from './gradients';

// Importing @lth/compute gives a tf that can differentiate (see gradients.ts).
registerGradients();

export { tf };
export {
  BACKENDS,
  availableBackends,
  initBackend,
  ensureBackend,
  setupTensorBackend,
  describeBackend,
  loadBackendModule,
  type BackendName,
  type BackendInfo,
} from './backend';
export { registerWasmKernels, unregisterWasmKernels, wasmKernelsRegistered } from './wasm/register';
export { gemmMatMulCount, nativeMatMulCount } from './wasm/gemm/matmul';
export { nativeBlasActive, nativeNormalizeRows, useNativeBlas, NATIVE_ADDON } from './wasm/gemm/native';
export { nativeNormalizedBatch } from './wasm/gemm/native-batch';
export { backendLabel } from './label';
export {
  nativeDenseStep,
  nativeDenseForward,
  nativeDenseAvailable,
  type DenseChainLayer,
  type DenseChainParam,
  type NativeStepOptimizer,
} from './wasm/mlp/native-chain';
export { nativeConvNetStep, nativeConvNetForward, nativeConvNetAvailable, type ConvNetLayer } from './wasm/convnet/native-convnet';
export { parallelGemmCount, threadPolicy as gemmThreadPolicy } from './wasm/gemm/parallel';
export { parallelConvCount } from './wasm/conv/winograd-forward';
export { setThreads, threadCount, MAX_THREADS } from './wasm/threads/settings';
export { stopThreads, threadsRunning } from './wasm/threads/pool';
export { registerGradients } from './gradients';
export { withBackend, toActiveBackend } from './switch';
// Re-exported for compatibility; the seeded RNG lives in @lth/random, which loads no tfjs.
export { createRng, RNG_PURPOSES, type Rng, type RngPurpose } from '@lth/random';
export { adamUpdate, type AdamScalars, type AdamResult } from './adam';
export {
  maskIndex,
  maskedMatMul,
  maskedMatMulAvailable,
  maskedMatMulMaxDensity,
  MASKED_MATMUL_MAX_DENSITY,
  MASKED_MATMUL_MAX_DENSITY_NATIVE,
  type MaskIndex,
} from './sparse';
