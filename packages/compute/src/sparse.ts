import * as tf from '@tensorflow/tfjs-core';
import type { HeapBackend } from './wasm/kernel';
import { WASM } from './wasm/kernel';
import { MASKED_MATMUL, MASKED_MATMUL_INPUT_GRAD, MASKED_MATMUL_WEIGHT_GRAD } from './wasm/sparse/masked-matmul';
import { sddmmFor } from './wasm/sparse/sddmm';
import { spmmFor } from './wasm/sparse/spmm';

/**
 * Sparse products for masked dense layers: y = x·(W⊙M) + b with its two gradients computed
 * from the kept entries only (wasm kernels LthMaskedMatMul*, wasm/sparse/). The mask is fixed
 * while a network trains, so its compressed index is built once (`maskIndex`) and every step
 * reads W in place. Where the kernels are not available (another backend, no wasm SIMD),
 * `maskedMatMulAvailable()` is false and callers use the dense product of the masked weights.
 */

/**
 * Below this fraction of kept weights a masked dense layer is faster sparse (forward and both
 * gradients) than dense, on every LeNet and Conv-2/4/6 fc shape measured (README, "Sparse
 * dense layers"); `sparse: auto` uses it.
 */
export const MASKED_MATMUL_MAX_DENSITY = 0.3;

/**
 * The compressed index of a 0/1 mask of a weight [rows, cols] (rows = inputs, cols = outputs):
 * both orders, as int32 tensors on the active backend (the kernels read them in wasm memory).
 * Column order (colPtr: cols + 1 offsets, colRows: the kept rows of each column, ascending)
 * drives the forward product; row order (rowPtr, rowCols) the two gradients.
 */
export interface MaskIndex {
  readonly shape: readonly [number, number];
  /** Kept entries. */
  readonly kept: number;
  /** kept / (rows * cols). */
  readonly density: number;
  readonly colPtr: tf.Tensor1D;
  readonly colRows: tf.Tensor1D;
  readonly rowPtr: tf.Tensor1D;
  readonly rowCols: tf.Tensor1D;
  dispose(): void;
}

/** The index of `mask` (row-major [rows, cols]; nonzero = kept). The caller disposes it. */
export function maskIndex(mask: ArrayLike<number>, shape: readonly [number, number]): MaskIndex {
  const [rows, cols] = shape;
  if (!(Number.isInteger(rows) && Number.isInteger(cols) && rows > 0 && cols > 0)) throw new Error(`maskIndex: shape must be two positive integers, got [${shape}]`);
  if (mask.length !== rows * cols) throw new Error(`maskIndex: the mask has ${mask.length} values, shape [${rows}, ${cols}] needs ${rows * cols}`);
  const rowPtr = new Int32Array(rows + 1);
  const colPtr = new Int32Array(cols + 1);
  for (let r = 0; r < rows; r++) {
    let n = 0;
    for (let c = 0, o = r * cols; c < cols; c++, o++) {
      if (mask[o] !== 0) {
        n++;
        colPtr[c + 1]!++;
      }
    }
    rowPtr[r + 1] = rowPtr[r]! + n;
  }
  for (let c = 0; c < cols; c++) colPtr[c + 1]! += colPtr[c]!;
  const kept = rowPtr[rows]!;
  // At least one element: a kernel never reads past ptr's range, but an empty tensor has no heap offset to pass.
  const rowCols = new Int32Array(Math.max(1, kept));
  const colRows = new Int32Array(Math.max(1, kept));
  const fill = colPtr.slice(0, cols);
  for (let r = 0, e = 0; r < rows; r++) {
    for (let c = 0, o = r * cols; c < cols; c++, o++) {
      if (mask[o] === 0) continue;
      rowCols[e++] = c;
      colRows[fill[c]!++] = r;
    }
  }
  // Kept outside any enclosing tidy: the index lives as long as the mask it describes.
  const tensors = [colPtr, colRows, rowPtr, rowCols].map((a) => tf.keep(tf.tensor1d(a, 'int32')));
  const [cp, cr, rp, rc] = tensors as [tf.Tensor1D, tf.Tensor1D, tf.Tensor1D, tf.Tensor1D];
  return {
    shape: [rows, cols],
    kept,
    density: kept / (rows * cols),
    colPtr: cp,
    colRows: cr,
    rowPtr: rp,
    rowCols: rc,
    dispose: () => tf.dispose(tensors),
  };
}

/** Whether `maskedMatMul` can run now: the wasm backend is active with our kernels and wasm SIMD. */
export function maskedMatMulAvailable(): boolean {
  if (tf.getBackend() !== WASM || !tf.getKernel(MASKED_MATMUL, WASM)) return false;
  const memory = (tf.backend() as unknown as HeapBackend).wasm?.asm?.memory;
  return memory !== undefined && spmmFor(memory) !== null && sddmmFor(memory) !== null;
}

/**
 * x·(W⊙M) (+ bias) for x [batch, rows], W [rows, cols] and M given by `index`, differentiable:
 * the input gradient dy·(W⊙M)^T and the weight gradient (x^T·dy)⊙M (exactly 0 where M is 0),
 * each computed only when backpropagation needs it (the network's first layer needs no input
 * gradient). W's pruned entries are never read. Only where `maskedMatMulAvailable()`.
 */
export function maskedMatMul(x: tf.Tensor2D, w: tf.Tensor2D, index: MaskIndex, bias?: tf.Tensor1D): tf.Tensor2D {
  registerMaskedMatMulGradient();
  const inputs: tf.NamedTensorMap = { x, w, colPtr: index.colPtr, colRows: index.colRows, rowPtr: index.rowPtr, rowCols: index.rowCols };
  if (bias) inputs['bias'] = bias;
  return tf.engine().runKernel(MASKED_MATMUL, inputs, {}) as tf.Tensor2D;
}

function registerMaskedMatMulGradient(): void {
  if (tf.getGradient(MASKED_MATMUL)) return;
  tf.registerGradient({
    kernelName: MASKED_MATMUL,
    inputsToSave: ['x', 'w', 'rowPtr', 'rowCols'],
    gradFunc: (dy, saved) => {
      const [x, w, rowPtr, rowCols] = saved as [tf.Tensor2D, tf.Tensor2D, tf.Tensor1D, tf.Tensor1D];
      const d = dy as tf.Tensor2D;
      const run = (name: string, inputs: tf.NamedTensorMap) => tf.engine().runKernel(name, inputs, {}) as tf.Tensor;
      return {
        x: () => run(MASKED_MATMUL_INPUT_GRAD, { dy: d, w, rowPtr, rowCols }),
        w: () => run(MASKED_MATMUL_WEIGHT_GRAD, { x, dy: d, rowPtr, rowCols }),
        bias: () => tf.sum(d, 0),
      };
    },
  });
}
