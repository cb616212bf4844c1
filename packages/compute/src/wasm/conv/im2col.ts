import type { backend_util, TensorInfo } from '@tensorflow/tfjs-core';
import { assemble, get, perMemory, set } from '../asm';
import type { BoundCall, HeapBackend } from '../kernel';
import { BLOCK, BLOCK_EMPTY, BR, BR_IF, END, I32, I32_ADD, I32_CONST, I32_GE_U, I32_MUL, LOOP, MEMORY_COPY } from '../opcodes';

/** Above this the patch matrix (kh*kw*ci x n*oh*ow floats) is not built; the Conv2D path runs. */
const MAX_PATCH_BYTES = 256 * 1024 * 1024;

// copyRows(src, srcStride, dst, rowBytes, rows): memory.copy of `rows` rows, packed at dst.
const [SRC, STRIDE, DST, ROW, ROWS, R] = [0, 1, 2, 3, 4, 5];
// prettier-ignore
const COPY_ROWS = [
  ...[BLOCK, BLOCK_EMPTY, LOOP, BLOCK_EMPTY],
  ...get(R), ...get(ROWS), I32_GE_U, BR_IF, 1, // r >= rows: break
  ...get(DST), ...get(R), ...get(ROW), I32_MUL, I32_ADD, // dst + r*rowBytes
  ...get(SRC), ...get(R), ...get(STRIDE), I32_MUL, I32_ADD, // src + r*srcStride
  ...get(ROW), ...MEMORY_COPY, 0, 0, // memory.copy(dst, src, rowBytes) within memory 0
  ...get(R), I32_CONST, 1, I32_ADD, ...set(R), // r += 1
  BR, 0, END, END, // br loop; end loop; end block
];
const copyRowsFor = perMemory((memory) => assemble('copyRows', [I32, I32, I32, I32, I32], [[1, I32]], COPY_ROWS, memory));

/** Whether `filterGradByIm2col` handles this convolution (stride 1: windows are row copies). */
export function im2colApply(info: backend_util.Conv2DInfo, backend: HeapBackend): boolean {
  const { filterHeight: kh, filterWidth: kw, inChannels: ci, batchSize: n, outHeight: oh, outWidth: ow } = info;
  if (info.strideHeight !== 1 || info.strideWidth !== 1 || info.dilationHeight !== 1 || info.dilationWidth !== 1) return false;
  if (kh * kw * ci * n * oh * ow * 4 > MAX_PATCH_BYTES) return false;
  const memory = backend.wasm.asm?.memory;
  return memory !== undefined && copyRowsFor(memory) !== null;
}

/**
 * dW = patches [kh*kw*ci, n*oh*ow] x dy [n*oh*ow, co], one untransposed BatchMatMul giving the
 * [kh,kw,ci,co] layout directly; patch row (i,j,c) is x^T[c] (padded) shifted by (i,j), built
 * by a hand-assembled wasm loop of memory.copy calls, one per output row. Measured against the
 * 32x32-"filter" Conv2D: Conv-2's layer (64 ch, batch 60, 32x32) 205 vs 259 ms, and 18-27%
 * faster for every zoo shape tried (16-512 channels, 4x4 to 32x32).
 */
export function filterGradByIm2col(
  call: BoundCall,
  keep: (t: TensorInfo) => TensorInfo,
  backend: HeapBackend,
  x: TensorInfo,
  dy: TensorInfo,
  info: backend_util.Conv2DInfo,
): TensorInfo {
  const { batchSize: n, inChannels: ci, outChannels: co, filterHeight: kh, filterWidth: kw, inHeight: h, inWidth: w, outHeight: oh, outWidth: ow } = info;
  const { top, left } = info.padInfo;
  // Stride 1: the last window ends at row oh-1+kh-1 of the padded input; a negative remainder is never read.
  const bottom = Math.max(0, oh + kh - 1 - h - top);
  const right = Math.max(0, ow + kw - 1 - w - left);
  let xT = keep(call('Transpose', { x }, { perm: [3, 0, 1, 2] })); // [ci, n, h, w]
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
  const hp = h + top + bottom;
  const wp = w + left + right;
  const k = n * oh * ow;
  const patches = keep(backend.makeOutput([kh * kw * ci, k], 'float32'));
  const copyRows = copyRowsFor(backend.wasm.asm!.memory!)!;
  const src = backend.dataIdMap.get(xT.dataId).memoryOffset;
  let dst = backend.dataIdMap.get(patches.dataId).memoryOffset;
  for (let i = 0; i < kh; i++) {
    for (let j = 0; j < kw; j++) {
      for (let c = 0; c < ci; c++) {
        for (let b = 0; b < n; b++) {
          copyRows(src + (((c * n + b) * hp + i) * wp + j) * 4, wp * 4, dst, ow * 4, oh);
          dst += oh * ow * 4;
        }
      }
    }
  }
  const a: TensorInfo = { dataId: patches.dataId, shape: [1, kh * kw * ci, k], dtype: 'float32' };
  const d: TensorInfo = { dataId: dy.dataId, shape: [1, k, co], dtype: dy.dtype };
  const g = call('BatchMatMul', { a, b: d }, { transposeA: false, transposeB: false });
  return { dataId: g.dataId, shape: [kh, kw, ci, co], dtype: g.dtype };
}
