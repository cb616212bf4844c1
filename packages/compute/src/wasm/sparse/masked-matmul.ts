import type { KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import type { HeapBackend, WasmBackendLike } from '../kernel';
import { fromBatchMinor, lanesFor, toBatchMinor } from './batch-minor';
import { sddmmFor, type Sddmm } from './sddmm';
import { spmmFor, type Spmm } from './spmm';

/**
 * The three products of a masked dense layer y = x·(W⊙M) (+ b), from a compressed index of M
 * (see sparse.ts: `maskIndex`), on tfjs-backend-wasm's heap:
 *   LthMaskedMatMul            y  = x·(W⊙M) + b     column index of M, spmm
 *   LthMaskedMatMulInputGrad   dx = dy·(W⊙M)^T      row index, spmm
 *   LthMaskedMatMulWeightGrad  dW = (x^T·dy) ⊙ M    row index, sddmm; zero where M is
 * W is read in place (only its kept entries); x and dy are copied batch-minor first
 * (batch-minor.ts). The index tensors are int32: ptr (rows + 1 offsets) and idx (the other
 * coordinate of each kept entry, ascending within a row).
 */
export const MASKED_MATMUL = 'LthMaskedMatMul';
export const MASKED_MATMUL_INPUT_GRAD = 'LthMaskedMatMulInputGrad';
export const MASKED_MATMUL_WEIGHT_GRAD = 'LthMaskedMatMulWeightGrad';

interface SparseHeapBackend extends HeapBackend, WasmBackendLike {
  typedArrayFromHeap(t: TensorInfo): Float32Array;
}

interface Kernels {
  spmm: Spmm;
  sddmm: Sddmm;
}

function kernelsOf(heap: SparseHeapBackend, name: string): Kernels {
  const memory = heap.wasm.asm?.memory;
  const spmm = memory === undefined ? null : spmmFor(memory);
  const sddmm = memory === undefined ? null : sddmmFor(memory);
  if (!spmm || !sddmm) throw new Error(`wasm-kernels ${name}: this engine has no wasm SIMD (use the dense product: sparse.ts maskedMatMulAvailable)`);
  return { spmm, sddmm };
}

function check(name: string, ok: boolean, what: () => string): void {
  if (!ok) throw new Error(`wasm-kernels ${name}: ${what()}`);
}

function matrix(name: string, t: TensorInfo, label: string): [number, number] {
  check(name, t.shape.length === 2 && t.dtype === 'float32', () => `${label} must be a 2-d float32 tensor, got ${t.dtype} [${t.shape}]`);
  return t.shape as [number, number];
}

function index(name: string, ptr: TensorInfo, idx: TensorInfo, rows: number): void {
  check(name, ptr.dtype === 'int32' && idx.dtype === 'int32', () => 'the mask index must be int32');
  check(name, ptr.shape.length === 1 && ptr.shape[0] === rows + 1, () => `the index has ${ptr.shape[0]! - 1} rows, the product needs ${rows}`);
}

/**
 * Runs `body` with batch-minor scratch buffers of `rows` features each, freed afterwards; the
 * output is freed too if `body` throws.
 */
function withScratch(heap: SparseHeapBackend, out: TensorInfo, lanes: number, rows: number[], body: (scratch: TensorInfo[]) => void): TensorInfo {
  const scratch: TensorInfo[] = [];
  try {
    for (const r of rows) scratch.push(heap.makeOutput([r, lanes], 'float32'));
    body(scratch);
    return out;
  } catch (err) {
    heap.disposeData(out.dataId);
    throw err;
  } finally {
    for (const t of scratch) heap.disposeData(t.dataId);
  }
}

const at = (heap: SparseHeapBackend, t: TensorInfo): number => heap.dataIdMap.get(t.dataId).memoryOffset;

export const maskedMatMul: KernelFunc = ({ inputs, backend }) => {
  const { x, w, bias, colPtr, colRows } = inputs as Record<string, TensorInfo>;
  const name = MASKED_MATMUL;
  const [batch, k] = matrix(name, x!, 'x');
  const [wk, n] = matrix(name, w!, 'w');
  check(name, wk === k, () => `x [${x!.shape}] and w [${w!.shape}] do not chain`);
  index(name, colPtr!, colRows!, n);
  if (bias) check(name, bias.dtype === 'float32' && bias.shape.length === 1 && bias.shape[0] === n, () => `bias must be float32 [${n}], got [${bias.shape}]`);
  const heap = backend as unknown as SparseHeapBackend;
  const { spmm } = kernelsOf(heap, name);
  const lanes = lanesFor(batch);
  const y = heap.makeOutput([batch, n], 'float32');
  return withScratch(heap, y, lanes, [k, n], ([xT, yT]) => {
    toBatchMinor(heap.typedArrayFromHeap(x!), batch, k, heap.typedArrayFromHeap(xT!), lanes);
    spmm(at(heap, xT!), at(heap, w!), at(heap, yT!), bias ? at(heap, bias) : 0, at(heap, colPtr!), at(heap, colRows!), n, lanes * 4, 4, n * 4, bias ? 1 : 0);
    fromBatchMinor(heap.typedArrayFromHeap(yT!), batch, n, heap.typedArrayFromHeap(y), lanes);
  });
};

export const maskedMatMulInputGrad: KernelFunc = ({ inputs, backend }) => {
  const { dy, w, rowPtr, rowCols } = inputs as Record<string, TensorInfo>;
  const name = MASKED_MATMUL_INPUT_GRAD;
  const [batch, n] = matrix(name, dy!, 'dy');
  const [k, wn] = matrix(name, w!, 'w');
  check(name, wn === n, () => `dy [${dy!.shape}] does not fit w [${w!.shape}]`);
  index(name, rowPtr!, rowCols!, k);
  const heap = backend as unknown as SparseHeapBackend;
  const { spmm } = kernelsOf(heap, name);
  const lanes = lanesFor(batch);
  const dx = heap.makeOutput([batch, k], 'float32');
  return withScratch(heap, dx, lanes, [n, k], ([dyT, dxT]) => {
    toBatchMinor(heap.typedArrayFromHeap(dy!), batch, n, heap.typedArrayFromHeap(dyT!), lanes);
    spmm(at(heap, dyT!), at(heap, w!), at(heap, dxT!), 0, at(heap, rowPtr!), at(heap, rowCols!), k, lanes * 4, n * 4, 4, 0);
    fromBatchMinor(heap.typedArrayFromHeap(dxT!), batch, k, heap.typedArrayFromHeap(dx), lanes);
  });
};

export const maskedMatMulWeightGrad: KernelFunc = ({ inputs, backend }) => {
  const { x, dy, rowPtr, rowCols } = inputs as Record<string, TensorInfo>;
  const name = MASKED_MATMUL_WEIGHT_GRAD;
  const [batch, k] = matrix(name, x!, 'x');
  const [dyBatch, n] = matrix(name, dy!, 'dy');
  check(name, dyBatch === batch, () => `x [${x!.shape}] and dy [${dy!.shape}] differ in batch`);
  index(name, rowPtr!, rowCols!, k);
  const heap = backend as unknown as SparseHeapBackend;
  const { sddmm } = kernelsOf(heap, name);
  const lanes = lanesFor(batch);
  const dw = heap.makeOutput([k, n], 'float32');
  return withScratch(heap, dw, lanes, [k, n], ([xT, dyT]) => {
    toBatchMinor(heap.typedArrayFromHeap(x!), batch, k, heap.typedArrayFromHeap(xT!), lanes);
    toBatchMinor(heap.typedArrayFromHeap(dy!), batch, n, heap.typedArrayFromHeap(dyT!), lanes);
    heap.typedArrayFromHeap(dw).fill(0);
    sddmm(at(heap, xT!), at(heap, dyT!), at(heap, dw), at(heap, rowPtr!), at(heap, rowCols!), k, lanes * 4, n * 4);
  });
};
