import * as tf from '@tensorflow/tfjs-core';

export { tf };
export {
  BACKENDS,
  availableBackends,
  initBackend,
  ensureBackend,
  describeBackend,
  loadBackendModule,
  type BackendName,
  type BackendInfo,
} from './backend';
export { registerWasmKernels } from './wasm-kernels';
export { createRng, type Rng } from './rng';
