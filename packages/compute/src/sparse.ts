import * as tf from '@tensorflow/tfjs-core';
import type { HeapBackend } from './wasm/kernel';
import { WASM } from './wasm/kernel';
import { MASKED_MATMUL, MASKED_MATMUL_INPUT_GRAD, MASKED_MATMUL_WEIGHT_GRAD } from './wasm/sparse/masked-matmul';
import { FROM_BATCH_MINOR, TO_BATCH_MINOR } from './wasm/sparse/batch-minor';
import { sparseKernelsFor } from './wasm/sparse/heap';
import { nativeBlasActive } from './wasm/gemm/native';

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
 * The same against OpenBLAS's dense products (LTH_NATIVE_BLAS=1, wasm/gemm/native.ts), which
 * are ~2.6x faster than the wasm gemm: measured on LeNet (quiet AMD EPYC, 2026-12-01), the
 * sparse evaluation of 17,000 images took 1.76x the dense one at 21% kept and 0.80x at 7%, and
 * the training steps were equal within noise from 21% down.
 */
export const MASKED_MATMUL_MAX_DENSITY_NATIVE = 0.1;

/** The density below which `sparse: auto` makes a layer sparse, given which dense products run. */
export function maskedMatMulMaxDensity(): number {
  return nativeBlasActive() ? MASKED_MATMUL_MAX_DENSITY_NATIVE : MASKED_MATMUL_MAX_DENSITY;
}

/**
 * The compressed index of a 0/1 mask of a weight [rows, cols] (rows = inputs, cols = outputs),
 * by rows (CSR) as int32 tensors on the active backend, where the kernels read them: rowPtr
 * (rows + 1 offsets) and rowCols (the kept columns of each row, ascending). All three products
 * walk W row by row (wasm/sparse/: a column order was 3-7x slower for Conv-2's fc1 forward).
 */
export interface MaskIndex {
  readonly shape: readonly [number, number];
  /** Kept entries. */
  readonly kept: number;
  /** kept / (rows * cols). */
  readonly density: number;
  readonly rowPtr: tf.Tensor1D;
  readonly rowCols: tf.Tensor1D;
  dispose(): void;
}

/** The index of `mask` (row-major [rows, cols]; nonzero = kept). The caller disposes it. */
export function maskIndex(mask: ArrayLike<number>, shape: readonly [number, number]): MaskIndex {
  const [rows, cols] = shape;
  if (!(Number.isInteger(rows) && Number.isInteger(cols) && rows > 0 && cols > 0))
    throw new Error(`maskIndex: shape must be two positive integers, got [${shape}]`);
  if (mask.length !== rows * cols) throw new Error(`maskIndex: the mask has ${mask.length} values, shape [${rows}, ${cols}] needs ${rows * cols}`);
  const rowPtr = new Int32Array(rows + 1);
  for (let r = 0; r < rows; r++) {
    let n = 0;
    for (let c = 0, o = r * cols; c < cols; c++, o++) if (mask[o] !== 0) n++;
    rowPtr[r + 1] = rowPtr[r]! + n;
  }
  const kept = rowPtr[rows]!;
  // At least one element: a kernel never reads past ptr's range, but an empty tensor has no heap offset to pass.
  const rowCols = new Int32Array(Math.max(1, kept));
  for (let o = 0, e = 0; o < mask.length; o++) if (mask[o] !== 0) rowCols[e++] = o % cols;
  // Kept outside any enclosing tidy: the index lives as long as the mask it describes.
  const tensors = [rowPtr, rowCols].map((a) => tf.keep(tf.tensor1d(a, 'int32')));
  const [rp, rc] = tensors as [tf.Tensor1D, tf.Tensor1D];
  return {
    shape: [rows, cols],
    kept,
    density: kept / (rows * cols),
    rowPtr: rp,
    rowCols: rc,
    dispose: () => tf.dispose(tensors),
  };
}

/** Whether `maskedMatMul` can run now: the wasm backend is active with our kernels and wasm SIMD. */
export function maskedMatMulAvailable(): boolean {
  if (tf.getBackend() !== WASM || !tf.getKernel(MASKED_MATMUL, WASM)) return false;
  return sparseKernelsFor((tf.backend() as unknown as HeapBackend).wasm?.asm?.memory) !== null;
}

/**
 * x·(W⊙M) (+ bias) for x [batch, rows], W [rows, cols] and M given by `index`, differentiable:
 * the input gradient dy·(W⊙M)^T and the weight gradient (x^T·dy)⊙M (exactly 0 where M is 0),
 * each computed only when backpropagation needs it (the network's first layer needs no input
 * gradient). W's pruned entries are never read. Only where `maskedMatMulAvailable()`.
 *
 * Three kernels: x to batch-minor, the product, back (wasm/sparse/). The conversions are each
 * other's gradients, so backpropagation converts dy once for both gradients.
 */
export function maskedMatMul(x: tf.Tensor2D, w: tf.Tensor2D, index: MaskIndex, bias?: tf.Tensor1D): tf.Tensor2D {
  registerGradients();
  const batch = x.shape[0];
  return tf.tidy(() => {
    const xT = run(TO_BATCH_MINOR, { x }, { batch });
    const inputs: tf.NamedTensorMap = { xT, w, rowPtr: index.rowPtr, rowCols: index.rowCols };
    if (bias) inputs['bias'] = bias;
    return run(FROM_BATCH_MINOR, { x: run(MASKED_MATMUL, inputs, {}) }, { batch }) as tf.Tensor2D;
  });
}

const run = (name: string, inputs: tf.NamedTensorMap, attrs: tf.NamedAttrMap): tf.Tensor => tf.engine().runKernel(name, inputs, attrs) as tf.Tensor;

function registerGradients(): void {
  if (tf.getGradient(MASKED_MATMUL)) return;
  const batchOf = (attrs: tf.NamedAttrMap | undefined) => ({ batch: (attrs as { batch: number }).batch });
  tf.registerGradient({ kernelName: TO_BATCH_MINOR, gradFunc: (dy, _, attrs) => ({ x: () => run(FROM_BATCH_MINOR, { x: dy as tf.Tensor }, batchOf(attrs)) }) });
  tf.registerGradient({ kernelName: FROM_BATCH_MINOR, gradFunc: (dy, _, attrs) => ({ x: () => run(TO_BATCH_MINOR, { x: dy as tf.Tensor }, batchOf(attrs)) }) });
  tf.registerGradient({
    kernelName: MASKED_MATMUL,
    inputsToSave: ['xT', 'w', 'rowPtr', 'rowCols'],
    gradFunc: (dy, saved) => {
      const [xT, w, rowPtr, rowCols] = saved as [tf.Tensor2D, tf.Tensor2D, tf.Tensor1D, tf.Tensor1D];
      const dyT = dy as tf.Tensor2D;
      return {
        xT: () => run(MASKED_MATMUL_INPUT_GRAD, { dyT, w, rowPtr, rowCols }, {}),
        w: () => run(MASKED_MATMUL_WEIGHT_GRAD, { xT, dyT, rowPtr, rowCols }, {}),
        // Padding lanes of dyT are 0.
        bias: () => tf.sum(dyT, 1),
      };
    },
  });
}
