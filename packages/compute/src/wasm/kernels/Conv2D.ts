import type * as tf from '@tensorflow/tfjs-core';
import { backend_util, Conv2D } from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { conv2DWinograd, winogradApply } from '../conv/winograd';
import { bindCall, required, scoped, type HeapBackend, type WasmBackendLike, type WasmKernelConfig } from '../kernel';

/**
 * 3x3 stride-1 convolutions with channels in fours/eights by Winograd F(4x4, 3x3) (conv/winograd.ts),
 * 2.6x faster than XNNPACK's direct convolution on Conv-2's layer; the rest go to the original.
 */
function makeConv2D(original: KernelConfig): KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const { x, filter } = inputs as { x: TensorInfo; filter: TensorInfo };
    const { strides, pad, dataFormat, dilations, dimRoundingMode } = attrs as unknown as tf.Conv2DAttrs;
    const format = backend_util.convertConv2DDataFormat(dataFormat);
    const heap = backend as unknown as HeapBackend;
    if (format === 'channelsLast' && x.dtype === 'float32' && filter.dtype === 'float32') {
      const info = backend_util.computeConv2DInfo(
        x.shape as [number, number, number, number],
        filter.shape as [number, number, number, number],
        strides,
        dilations,
        pad,
        dimRoundingMode,
        false,
        format,
      );
      if (winogradApply(info, heap)) {
        const b = backend as unknown as WasmBackendLike;
        const calls = bindCall(b);
        return scoped(b, (keep) => conv2DWinograd(calls, keep, heap, x, filter, info));
      }
    }
    return original.kernelFunc({ inputs, backend, attrs }) as TensorInfo;
  };
}

export const conv2DConfig: WasmKernelConfig = {
  kernelName: Conv2D,
  makeKernelFunc: (original) => makeConv2D(required(Conv2D, original)),
};
