import { Identity } from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { required, type WasmKernelConfig } from '../kernel';

interface RefCountingBackend {
  incRef(dataId: object): void;
}

/**
 * Identity (tf.clone) sharing the input's buffer, as the cpu backend and the wasm backend's
 * own Reshape do: tensors are immutable and the backend counts references, so a copy is never
 * needed. tfjs-backend-wasm's Identity copies, and tfjs-core clones every tensor it saves for
 * the backward pass (Conv-2: 22 clones per training step, four 15 MB activations and the
 * 16 MB fc1 weight among them). Strings go to the original.
 */
function makeSharingIdentity(original: KernelConfig): KernelFunc {
  return (args) => {
    const { x } = args.inputs as { x: TensorInfo };
    if (x.dtype === 'string') return original.kernelFunc(args);
    (args.backend as unknown as RefCountingBackend).incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
  };
}

export const identityConfig: WasmKernelConfig = {
  kernelName: Identity,
  makeKernelFunc: (original) => makeSharingIdentity(required(Identity, original)),
};
