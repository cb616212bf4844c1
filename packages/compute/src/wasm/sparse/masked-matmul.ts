import type { KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { heapOf, matrix, type SparseHeapBackend } from './heap';

/**
 * The three products of a masked dense layer y = x·(W⊙M) (+ b), from a compressed index of M
 * (sparse.ts: `maskIndex`), on tfjs-backend-wasm's heap, all activations batch-minor
 * ([features, lanes], batch-minor.ts):
 *   LthMaskedMatMul            yT  = ((W⊙M)^T·xT) + b   spmm-scatter
 *   LthMaskedMatMulInputGrad   dxT = (W⊙M)·dyT          spmm-gather
 *   LthMaskedMatMulWeightGrad  dW  = (xT·dyT^T) ⊙ M     sddmm; exactly 0 where M is 0
 * W is read in place, its kept entries only. The index is M's rows (int32): rowPtr (rows + 1
 * offsets) and rowCols (the column of each kept entry, ascending within a row). Padding
 * lanes: zero in every input the gradients get (LthToBatchMinor makes them so), so they add
 * nothing to dW; the forward output's hold the bias, and LthFromBatchMinor drops them.
 */
export const MASKED_MATMUL = 'LthMaskedMatMul';
export const MASKED_MATMUL_INPUT_GRAD = 'LthMaskedMatMulInputGrad';
export const MASKED_MATMUL_WEIGHT_GRAD = 'LthMaskedMatMulWeightGrad';

function check(kernel: string, ok: boolean, what: () => string): void {
  if (!ok) throw new Error(`wasm-kernels ${kernel}: ${what()}`);
}

function checkIndex(kernel: string, ptr: TensorInfo, idx: TensorInfo, rows: number): void {
  check(kernel, ptr.dtype === 'int32' && idx.dtype === 'int32', () => 'the mask index must be int32');
  check(kernel, ptr.shape.length === 1 && ptr.shape[0] === rows + 1, () => `the index has ${ptr.shape[0]! - 1} rows, the product needs ${rows}`);
}

const at = (heap: SparseHeapBackend, t: TensorInfo): number => heap.dataIdMap.get(t.dataId).memoryOffset;

export const maskedMatMul: KernelFunc = ({ inputs, backend }) => {
  const { xT, w, bias, rowPtr, rowCols } = inputs as Record<string, TensorInfo>;
  const kernel = MASKED_MATMUL;
  const [k, lanes] = matrix(kernel, xT!, 'xT');
  const [wk, n] = matrix(kernel, w!, 'w');
  check(kernel, wk === k, () => `xT [${xT!.shape}] has ${k} features, w [${w!.shape}] ${wk} inputs`);
  checkIndex(kernel, rowPtr!, rowCols!, k);
  if (bias) check(kernel, bias.dtype === 'float32' && bias.shape.length === 1 && bias.shape[0] === n, () => `bias must be float32 [${n}], got [${bias.shape}]`);
  const { heap, kernels } = heapOf(backend, kernel);
  const yT = heap.makeOutput([n, lanes], 'float32');
  kernels.spmmScatter(
    at(heap, xT!),
    at(heap, w!),
    at(heap, yT),
    bias ? at(heap, bias) : 0,
    at(heap, rowPtr!),
    at(heap, rowCols!),
    k,
    n,
    lanes * 4,
    bias ? 1 : 0,
  );
  return yT;
};

export const maskedMatMulInputGrad: KernelFunc = ({ inputs, backend }) => {
  const { dyT, w, rowPtr, rowCols } = inputs as Record<string, TensorInfo>;
  const kernel = MASKED_MATMUL_INPUT_GRAD;
  const [n, lanes] = matrix(kernel, dyT!, 'dyT');
  const [k, wn] = matrix(kernel, w!, 'w');
  check(kernel, wn === n, () => `dyT [${dyT!.shape}] has ${n} features, w [${w!.shape}] ${wn} outputs`);
  checkIndex(kernel, rowPtr!, rowCols!, k);
  const { heap, kernels } = heapOf(backend, kernel);
  const dxT = heap.makeOutput([k, lanes], 'float32');
  kernels.spmmGather(at(heap, dyT!), at(heap, w!), at(heap, dxT), 0, at(heap, rowPtr!), at(heap, rowCols!), k, lanes * 4, n * 4, 4, 0);
  return dxT;
};

export const maskedMatMulWeightGrad: KernelFunc = ({ inputs, backend }) => {
  const { xT, dyT, rowPtr, rowCols } = inputs as Record<string, TensorInfo>;
  const kernel = MASKED_MATMUL_WEIGHT_GRAD;
  const [k, lanes] = matrix(kernel, xT!, 'xT');
  const [n, dyLanes] = matrix(kernel, dyT!, 'dyT');
  check(kernel, dyLanes === lanes, () => `xT [${xT!.shape}] and dyT [${dyT!.shape}] differ in lanes`);
  checkIndex(kernel, rowPtr!, rowCols!, k);
  const { heap, kernels } = heapOf(backend, kernel);
  const dw = heap.makeOutput([k, n], 'float32');
  heap.typedArrayFromHeap(dw).fill(0);
  kernels.sddmm(at(heap, xT!), at(heap, dyT!), at(heap, dw), at(heap, rowPtr!), at(heap, rowCols!), k, lanes * 4, n * 4);
  return dw;
};
