import type * as tf from '@tensorflow/tfjs-core';
import { Conv2DBackpropFilter } from '@tensorflow/tfjs-core';
import type { KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { convInfoFor, cropNegative } from '../conv/conv-info';
import { filterGradByIm2col, im2colApply } from '../conv/im2col';
import { filterGradByTaps, tapsApply } from '../conv/filter-taps';
import { filterGradWinograd, winogradApply } from '../conv/winograd';
import { bindCall, call, scoped, type HeapBackend, type WasmBackendLike, type WasmKernelConfig } from '../kernel';

/**
 * The filter gradient, which tfjs-backend-wasm 4.22 does not have. Stride 1 takes the first
 * strategy that applies: Winograd (3x3), one product per tap (few input channels), patches x dy
 * (im2col). Otherwise dW[kh,kw,ci,co] = sum_{n,oh,ow} x[n, oh*sh+kh-pt, ow*sw+kw-pl, ci] *
 * dy[n,oh,ow,co]: a convolution of x^T [ci,h,w,n] with dy^T [oh,ow,n,co] as the filter, stride
 * 1, dilated by the forward stride, giving [ci,kh,kw,co]. All of it runs as wasm kernels on wasm
 * memory: no data goes through JS.
 */
function conv2DBackpropFilter({ inputs, backend, attrs }: Parameters<KernelFunc>[0]): TensorInfo {
  const b = backend as unknown as WasmBackendLike;
  const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
  const { filterShape } = attrs as unknown as tf.Conv2DBackpropFilterAttrs;
  const info = convInfoFor('Conv2DBackpropFilter', x.shape, filterShape, attrs ?? {});
  const { filterHeight: kh, filterWidth: kw, inHeight: h, inWidth: w, outHeight: oh, outWidth: ow, strideHeight: sh, strideWidth: sw } = info;
  const { top, left } = info.padInfo;
  const calls = bindCall(b);
  const heap = backend as unknown as HeapBackend;
  if (winogradApply(info, heap)) return scoped(b, (keep) => filterGradWinograd(calls, keep, heap, x, dy, info));
  if (tapsApply(info)) return scoped(b, (keep) => filterGradByTaps(calls, keep, x, dy, info));
  if (im2colApply(info, heap)) return scoped(b, (keep) => filterGradByIm2col(calls, keep, heap, x, dy, info));
  return scoped(b, (keep) => {
    const xT = keep(call('Transpose', b, { x }, { perm: [3, 1, 2, 0] }));
    const dyT = keep(call('Transpose', b, { x: dy }, { perm: [1, 2, 0, 3] }));
    // Bottom/right pads that make the output exactly kh x kw; negative: rows the forward pass never read.
    const bottom = (oh - 1) * sh + kh - h - top;
    const right = (ow - 1) * sw + kw - w - left;
    const { x: xIn, pad } = cropNegative(b, keep, xT, [top, bottom, left, right]);
    const g = keep(
      call('Conv2D', b, { x: xIn, filter: dyT }, { strides: [1, 1], pad, dilations: [sh, sw], dataFormat: 'NHWC', dimRoundingMode: undefined as never }),
    );
    return call('Transpose', b, { x: g }, { perm: [1, 2, 0, 3] });
  });
}

export const conv2DBackpropFilterConfig: WasmKernelConfig = {
  kernelName: Conv2DBackpropFilter,
  makeKernelFunc: () => conv2DBackpropFilter as KernelFunc,
};
