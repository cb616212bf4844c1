import type * as tf from '@tensorflow/tfjs-core';
import { Conv2DBackpropInput } from '@tensorflow/tfjs-core';
import type { KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { convInfoFor, cropNegative } from '../conv/conv-info';
import { call, scoped, view, type WasmBackendLike, type WasmKernelConfig } from '../kernel';

/**
 * The input gradient (tfjs-backend-wasm's is a naive loop, ~1.3 s for Conv-2): dx = the
 * stride-dilated dy, padded by (k-1-pad), convolved (Conv2D, so Winograd where it applies) with
 * the spatially flipped filter whose in/out channels are swapped.
 */
function conv2DBackpropInput({ inputs, backend, attrs }: Parameters<KernelFunc>[0]): TensorInfo {
  const b = backend as unknown as WasmBackendLike;
  const { dy, filter } = inputs as { dy: TensorInfo; filter: TensorInfo };
  const { inputShape } = attrs as unknown as tf.Conv2DBackpropInputAttrs;
  const info = convInfoFor('Conv2DBackpropInput', inputShape, filter.shape, attrs ?? {});
  const {
    batchSize: n,
    filterHeight: kh,
    filterWidth: kw,
    inHeight: h,
    inWidth: w,
    outHeight: oh,
    outWidth: ow,
    outChannels: co,
    strideHeight: sh,
    strideWidth: sw,
  } = info;
  const { top, left } = info.padInfo;
  return scoped(b, (keep) => {
    const flipped = keep(call('Reverse', b, { x: filter }, { dims: [0, 1] }));
    const wT = keep(call('Transpose', b, { x: flipped }, { perm: [0, 1, 3, 2] }));
    let d = dy;
    if (sh > 1 || sw > 1) {
      // Zeros after every row/column: [n*oh,1,ow,1,co] padded to [n*oh,sh,ow,sw,co] is the dilation.
      const padded = call(
        'PadV2',
        b,
        { x: view(dy, [n * oh, 1, ow, 1, co]) },
        {
          paddings: [
            [0, 0],
            [0, sh - 1],
            [0, 0],
            [0, sw - 1],
            [0, 0],
          ],
          constantValue: 0,
        },
      );
      d = keep(view(padded, [n, oh * sh, ow * sw, co]));
    }
    const ptop = kh - 1 - top;
    const pleft = kw - 1 - left;
    const pbottom = h + kh - 1 - oh * sh - ptop;
    const pright = w + kw - 1 - ow * sw - pleft;
    const { x: dIn, pad } = cropNegative(b, keep, d, [ptop, pbottom, pleft, pright]);
    return call('Conv2D', b, { x: dIn, filter: wT }, { strides: [1, 1], pad, dilations: [1, 1], dataFormat: 'NHWC', dimRoundingMode: undefined as never });
  });
}

export const conv2DBackpropInputConfig: WasmKernelConfig = {
  kernelName: Conv2DBackpropInput,
  makeKernelFunc: () => conv2DBackpropInput as KernelFunc,
};
