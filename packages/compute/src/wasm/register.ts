import * as tf from '@tensorflow/tfjs-core';
import type { KernelConfig } from '@tensorflow/tfjs-core';
import { WASM, type WasmKernelConfig } from './kernel';
import { _fusedMatMulConfig } from './kernels/_FusedMatMul';
import { batchMatMulConfig } from './kernels/BatchMatMul';
import { conv2DConfig } from './kernels/Conv2D';
import { conv2DBackpropFilterConfig } from './kernels/Conv2DBackpropFilter';
import { conv2DBackpropInputConfig } from './kernels/Conv2DBackpropInput';
import { identityConfig } from './kernels/Identity';
import { lthFromBatchMinorConfig } from './kernels/LthFromBatchMinor';
import { lthMaskedMatMulConfig } from './kernels/LthMaskedMatMul';
import { lthMaskedMatMulInputGradConfig } from './kernels/LthMaskedMatMulInputGrad';
import { lthMaskedMatMulWeightGradConfig } from './kernels/LthMaskedMatMulWeightGrad';
import { lthToBatchMinorConfig } from './kernels/LthToBatchMinor';
import { maxPoolGradConfig } from './kernels/MaxPoolGrad';
import { meanConfig } from './kernels/Mean';
import { sumConfig } from './kernels/Sum';
import { tileConfig } from './kernels/Tile';
import { stopThreads } from './threads/pool';

/**
 * The kernels that make training on tfjs-backend-wasm 4.22 practical (fast convolution
 * gradients, Winograd, a SIMD gemm; see the package README), registered in place of the
 * backend's own, which are kept to fall back to and to restore. One file per kernel under
 * kernels/, as tfjs-backend-wasm's own `kernels/<Kernel>.ts` and `register_all_kernels.ts`.
 */
const KERNEL_CONFIGS: readonly WasmKernelConfig[] = [
  conv2DConfig,
  conv2DBackpropFilterConfig,
  conv2DBackpropInputConfig,
  tileConfig,
  batchMatMulConfig,
  _fusedMatMulConfig,
  sumConfig,
  meanConfig,
  maxPoolGradConfig,
  identityConfig,
  lthMaskedMatMulConfig,
  lthMaskedMatMulInputGradConfig,
  lthMaskedMatMulWeightGradConfig,
  lthToBatchMinorConfig,
  lthFromBatchMinorConfig,
];

/** Marks the configs registered here, so that registering twice is a no-op. */
const OURS = Symbol.for('lth.compute.wasmKernel');

/** What tfjs-backend-wasm had registered before us (undefined: nothing), to restore it. */
const originals = new Map<string, KernelConfig | undefined>();

function isOurs(config: KernelConfig | undefined): boolean {
  return config !== undefined && (config as unknown as Record<symbol, unknown>)[OURS] === true;
}

function loadWasmModule(): void {
  if (tf.getKernel('Conv2D', WASM)) return;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    require('@tensorflow/tfjs-backend-wasm');
  } catch (err) {
    throw new Error(`wasm-kernels: @tensorflow/tfjs-backend-wasm cannot be loaded: ${(err as Error).message.split('\n')[0]}`, { cause: err });
  }
}

/**
 * Registers the fast Conv2DBackpropFilter / Conv2DBackpropInput (plus a Tile, transposed
 * matmuls and leading-axis Sum/Mean that are not pathologically slow) on the 'wasm' backend,
 * replacing what tfjs-backend-wasm registered (kept, see unregisterWasmKernels). Idempotent.
 */
export function registerWasmKernels(): void {
  loadWasmModule();
  for (const { kernelName, makeKernelFunc } of KERNEL_CONFIGS) {
    const existing = tf.getKernel(kernelName, WASM);
    if (isOurs(existing)) continue;
    originals.set(kernelName, existing);
    if (existing) tf.unregisterKernel(kernelName, WASM);
    // The original's setupFunc (its bindings into the wasm module) is kept: wrappers call it.
    const config = { kernelName, backendName: WASM, kernelFunc: makeKernelFunc(existing), setupFunc: existing?.setupFunc, [OURS]: true } as KernelConfig;
    tf.registerKernel(config);
  }
}

/**
 * Puts back tfjs-backend-wasm's own kernels (the naive input gradient, no filter gradient, slow
 * Tile) and ends our kernels' worker threads.
 */
export function unregisterWasmKernels(): void {
  void stopThreads();
  for (const { kernelName } of KERNEL_CONFIGS) {
    if (!isOurs(tf.getKernel(kernelName, WASM))) continue;
    tf.unregisterKernel(kernelName, WASM);
    const original = originals.get(kernelName);
    if (!original) continue;
    tf.registerKernel(original);
    // tfjs runs a kernel's setupFunc only when the backend initializes; ours was registered then.
    const backend = tf.findBackend(WASM);
    if (backend && original.setupFunc) original.setupFunc(backend);
  }
}

/** Whether our fast kernels are the ones registered on 'wasm' now. */
export function wasmKernelsRegistered(): boolean {
  return KERNEL_CONFIGS.every(({ kernelName }) => isOurs(tf.getKernel(kernelName, WASM)));
}
