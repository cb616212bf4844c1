import { tf, initBackend, registerWasmKernels, unregisterWasmKernels, wasmKernelsRegistered } from '../index';

describe('wasm kernel registration', () => {
  beforeAll(async () => {
    await initBackend('wasm');
  });

  it('registers our kernels idempotently and can restore the originals', () => {
    expect(wasmKernelsRegistered()).toBe(true);
    registerWasmKernels();
    registerWasmKernels();
    expect(wasmKernelsRegistered()).toBe(true);
    unregisterWasmKernels();
    expect(wasmKernelsRegistered()).toBe(false);
    // tfjs-backend-wasm 4.22 has no filter gradient of its own.
    expect(tf.getKernel('Conv2DBackpropFilter', 'wasm')).toBeUndefined();
    expect(tf.getKernel('Conv2DBackpropInput', 'wasm')).toBeDefined();
    registerWasmKernels();
    expect(wasmKernelsRegistered()).toBe(true);
  });
});
