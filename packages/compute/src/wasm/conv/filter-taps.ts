import type { backend_util, TensorInfo } from '@tensorflow/tfjs-core';
import type { BoundCall } from '../kernel';

/**
 * Below this many input channels the filter gradient is cheaper as one matrix product per
 * filter tap than as the 32x32-"filter" Conv2D: measured on Conv-2's first layer (3 channels,
 * batch 60, 32x32) 15 ms against 49 ms; break-even near 16 channels, and at 64 the taps take
 * 378 ms against 264 ms (nine [ci, n*h*w] slices of x are copied, ci rows each).
 */
export const TAPS_MAX_CHANNELS = 15;

/** Whether `filterGradByTaps` handles this convolution (stride 1 only: the slices are unstrided). */
export function tapsApply(info: backend_util.Conv2DInfo): boolean {
  return info.inChannels <= TAPS_MAX_CHANNELS && info.strideHeight === 1 && info.strideWidth === 1 && info.dilationHeight === 1 && info.dilationWidth === 1;
}

/**
 * dW[i,j,ci,co] = sum_{n,oh,ow} xpad[n, oh+i, ow+j, ci] * dy[n,oh,ow,co]: for each tap (i,j),
 * the shifted window of x^T [ci, n*oh*ow] times dy [n*oh*ow, co] (both untransposed, the fast
 * BatchMatMul path), then the kh*kw [ci, co] blocks stacked: exactly the [kh,kw,ci,co] layout.
 * `keep` registers intermediates for freeing; the returned tensor is the caller's.
 */
export function filterGradByTaps(
  call: BoundCall,
  keep: (t: TensorInfo) => TensorInfo,
  x: TensorInfo,
  dy: TensorInfo,
  info: backend_util.Conv2DInfo,
): TensorInfo {
  const { batchSize: n, inChannels: ci, outChannels: co, filterHeight: kh, filterWidth: kw, inHeight: h, inWidth: w, outHeight: oh, outWidth: ow } = info;
  const { top, left } = info.padInfo;
  // With stride 1 the last window ends at oh-1+kh-1; a negative remainder is never read.
  const bottom = Math.max(0, oh + kh - 1 - h - top);
  const right = Math.max(0, ow + kw - 1 - w - left);
  let xT = keep(call('Transpose', { x }, { perm: [3, 0, 1, 2] }));
  if (top > 0 || bottom > 0 || left > 0 || right > 0) {
    xT = keep(
      call(
        'PadV2',
        { x: xT },
        {
          paddings: [
            [0, 0],
            [0, 0],
            [top, bottom],
            [left, right],
          ],
          constantValue: 0,
        },
      ),
    );
  }
  const k = n * oh * ow;
  const b: TensorInfo = { dataId: dy.dataId, shape: [1, k, co], dtype: dy.dtype };
  const blocks: TensorInfo[] = [];
  for (let i = 0; i < kh; i++) {
    for (let j = 0; j < kw; j++) {
      const win = keep(call('Slice', { x: xT }, { begin: [0, 0, i, j], size: [ci, n, oh, ow] }));
      const a: TensorInfo = { dataId: win.dataId, shape: [1, ci, k], dtype: win.dtype };
      const g = keep(call('BatchMatMul', { a, b }, { transposeA: false, transposeB: false }));
      blocks.push({ dataId: g.dataId, shape: [ci, co], dtype: g.dtype });
    }
  }
  const out = blocks.length === 1 ? blocks[0]! : call('Concat', blocks, { axis: 0 });
  return { dataId: out.dataId, shape: [kh, kw, ci, co], dtype: out.dtype };
}
