/**
 * Fast training kernels for tfjs-backend-wasm (see issue: Conv2DBackpropFilter is missing and
 * Conv2DBackpropInput is a naive loop). Filled in by the compute work; registering is idempotent.
 */
export function registerWasmKernels(): void {}
