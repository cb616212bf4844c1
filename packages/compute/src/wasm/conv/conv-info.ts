import type * as tf from '@tensorflow/tfjs-core';
import { backend_util } from '@tensorflow/tfjs-core';
import type { NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';
import { call, type WasmBackendLike } from '../kernel';

/** Explicit NHWC pads, as the wasm Conv2D takes them. */
export type ExplicitPads = [[number, number], [number, number], [number, number], [number, number]];

/**
 * The forward convolution's geometry for a gradient kernel, from tfjs `computeConv2DInfo`, so
 * pads ('same' asymmetric, 'valid', numeric, explicit) are exactly the forward pass's.
 */
export function convInfoFor(kernel: string, xShape: number[], filterShape: number[], attrs: NamedAttrMap): backend_util.Conv2DInfo {
  const { strides, pad, dataFormat, dimRoundingMode } = attrs as unknown as tf.Conv2DBackpropInputAttrs;
  const format = backend_util.convertConv2DDataFormat(dataFormat);
  if (format !== 'channelsLast') {
    throw new Error(`wasm-kernels ${kernel}: dataFormat '${dataFormat}' is not supported (the wasm Conv2D is NHWC only)`);
  }
  return backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    strides,
    1,
    pad,
    dimRoundingMode,
    false,
    format,
  );
}

/**
 * Pads a 4-d NHWC tensor's H and W by (top, bottom, left, right); a negative amount crops
 * instead. Returns the explicit pads that are left for the convolution to apply itself.
 */
export function cropNegative(
  backend: WasmBackendLike,
  keep: (t: TensorInfo) => TensorInfo,
  x: TensorInfo,
  pads: [number, number, number, number],
): { x: TensorInfo; pad: ExplicitPads } {
  const [top, bottom, left, right] = pads;
  const [n, h, w, c] = x.shape as [number, number, number, number];
  const cut = [Math.max(0, -top), Math.max(0, -bottom), Math.max(0, -left), Math.max(0, -right)] as const;
  let out = x;
  if (cut.some((v) => v > 0)) {
    out = keep(call('Slice', backend, { x }, { begin: [0, cut[0], cut[2], 0], size: [n, h - cut[0] - cut[1], w - cut[2] - cut[3], c] }));
  }
  const pad: ExplicitPads = [
    [0, 0],
    [Math.max(0, top), Math.max(0, bottom)],
    [Math.max(0, left), Math.max(0, right)],
    [0, 0],
  ];
  return { x: out, pad };
}
