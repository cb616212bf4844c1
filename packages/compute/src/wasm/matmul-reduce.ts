import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import * as tf from '@tensorflow/tfjs-core';
import type { WasmBackendLike } from './kernel';

/**
 * Sum / Mean over a run of axes that are not the innermost ones (the per-channel statistics of
 * batch norm: axes [0,1,2] of NHWC) as a matrix product with a constant row, which runs on
 * XNNPACK: x viewed as [B, R, I] gives ones[1,1,R] x x = [B,1,I]. tfjs-backend-wasm transposes
 * the reduced axes innermost first; measured ~45 ms per Sum of a [60,32,32,64] activation,
 * and the batch-norm forward + backward runs about ten of them.
 * Anything else (innermost axes, non-contiguous axes, integer dtypes) goes to the original.
 */
export function makeMatMulReduce(original: KernelConfig, mean: boolean): KernelFunc {
  return (args) => {
    const { inputs, backend, attrs } = args;
    const x = (inputs as { x: TensorInfo }).x;
    const { axis, keepDims } = attrs as unknown as tf.SumAttrs;
    const shape = x.shape;
    const axes = [...tf.util.parseAxisParam(axis, shape)].sort((a, b) => a - b);
    const first = axes[0];
    const last = axes[axes.length - 1];
    const contiguous = first !== undefined && last !== undefined && last - first + 1 === axes.length;
    const size = (from: number, to: number) => shape.slice(from, to).reduce((a, b) => a * b, 1);
    const inner = contiguous ? size(last! + 1, shape.length) : 1;
    const reduced = contiguous ? size(first!, last! + 1) : 0;
    if (x.dtype !== 'float32' || !contiguous || inner < 8 || reduced < 2) return original.kernelFunc(args);
    const fill = tf.getKernel('Fill', 'wasm');
    const matmul = tf.getKernel('BatchMatMul', 'wasm');
    if (!fill || !matmul) return original.kernelFunc(args);
    const outer = size(0, first!);
    const b = backend as unknown as WasmBackendLike;
    const row = fill.kernelFunc({ inputs: {}, backend, attrs: { shape: [1, 1, reduced], value: mean ? 1 / reduced : 1, dtype: 'float32' } }) as TensorInfo;
    try {
      const x3: TensorInfo = { dataId: x.dataId, shape: [outer, reduced, inner], dtype: x.dtype };
      const out = matmul.kernelFunc({ inputs: { a: row, b: x3 }, backend, attrs: { transposeA: false, transposeB: false } }) as TensorInfo;
      const outShape = keepDims ? shape.map((d, i) => (axes.includes(i) ? 1 : d)) : shape.filter((_, i) => !axes.includes(i));
      return { dataId: out.dataId, shape: outShape, dtype: out.dtype };
    } finally {
      b.disposeData(row.dataId);
    }
  };
}
