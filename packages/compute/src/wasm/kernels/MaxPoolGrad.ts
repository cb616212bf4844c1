import type * as tf from '@tensorflow/tfjs-core';
import { backend_util, MaxPoolGrad } from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import type { WasmKernelConfig } from '../kernel';

/** The slice of tfjs-backend-wasm's BackendWasm used to work on its heap directly. */
interface WasmHeapBackend {
  makeOutput(shape: number[], dtype: 'float32'): TensorInfo;
  typedArrayFromHeap(t: TensorInfo): Float32Array;
}

/**
 * MaxPoolGrad as one JS pass over the wasm heap: each window's first strict maximum (scan order
 * row by row, from -Infinity, so an all-NaN window passes nothing), exactly the cpu backend's
 * rule, receives that window's dy. tfjs-backend-wasm's kernel took ~69 ms for Conv-2's
 * [60,32,32,64] 2x2 pool (more than an elementwise op over the input, ~6x); this is one read of
 * x and dy and one write of dx. Non-float32 input goes to the original.
 */
function makeMaxPoolGrad(original: KernelConfig | undefined): KernelFunc {
  return (args) => {
    const { inputs, backend, attrs } = args;
    const { dy, input } = inputs as { dy: TensorInfo; input: TensorInfo };
    if (input.dtype !== 'float32' || dy.dtype !== 'float32') {
      if (!original) throw new Error('wasm-kernels MaxPoolGrad: only float32 is supported');
      return original.kernelFunc(args);
    }
    const { filterSize, strides, pad, dimRoundingMode } = attrs as unknown as tf.MaxPoolGradAttrs;
    const info = backend_util.computePool2DInfo(input.shape as [number, number, number, number], filterSize, strides, 1, pad, dimRoundingMode);
    const b = backend as unknown as WasmHeapBackend;
    const out = b.makeOutput([...input.shape], 'float32');
    // Views after the allocation: growing the wasm memory detaches older ones.
    const dx = b.typedArrayFromHeap(out);
    const x = b.typedArrayFromHeap(input);
    const g = b.typedArrayFromHeap(dy);
    dx.fill(0);
    scatter(x, g, dx, info);
    return out;
  };
}

export const maxPoolGradConfig: WasmKernelConfig = { kernelName: MaxPoolGrad, makeKernelFunc: (original) => makeMaxPoolGrad(original) };

function scatter(x: Float32Array, g: Float32Array, dx: Float32Array, info: backend_util.Conv2DInfo): void {
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: c, outHeight: oh, outWidth: ow, strideHeight: sh, strideWidth: sw } = info;
  const { effectiveFilterHeight: fh, effectiveFilterWidth: fw } = info;
  const { top, left } = info.padInfo;
  const rowStride = w * c;
  let gi = 0;
  for (let bi = 0; bi < n; bi++) {
    const base = bi * h * rowStride;
    for (let yr = 0; yr < oh; yr++) {
      const r0 = yr * sh - top;
      const rMin = Math.max(0, r0);
      const rMax = Math.min(h, r0 + fh);
      for (let yc = 0; yc < ow; yc++) {
        const c0 = yc * sw - left;
        const cMin = Math.max(0, c0);
        const cMax = Math.min(w, c0 + fw);
        const first = base + rMin * rowStride + cMin * c;
        for (let d = 0; d < c; d++, gi++) {
          let best = -Infinity;
          let at = -1;
          for (let r = rMin, ro = first + d; r < rMax; r++, ro += rowStride) {
            for (let col = cMin, o = ro; col < cMax; col++, o += c) {
              const v = x[o]!;
              if (v > best) {
                best = v;
                at = o;
              }
            }
          }
          if (at >= 0) dx[at] = dx[at]! + g[gi]!;
        }
      }
    }
  }
}
