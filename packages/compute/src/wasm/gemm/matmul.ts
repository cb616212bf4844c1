import type { KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';
import { call, type HeapBackend, type WasmBackendLike } from '../kernel';
import { GEMM_CHUNK, gemmFor } from './gemm';
import { nativeSgemm } from './native';
import { gemmChunkedParallel } from './parallel';

let products = 0;
let nativeProducts = 0;
/** How many products went through the gemm (or OpenBLAS, native.ts) so far (lets tests tell it from the fallback). */
export function gemmMatMulCount(): number {
  return products;
}
/** How many of them went to OpenBLAS. */
export function nativeMatMulCount(): number {
  return nativeProducts;
}

interface MatMulAttrs {
  transposeA: boolean;
  transposeB: boolean;
  activation?: string;
}

/**
 * BatchMatMul / _FusedMatMul through the SIMD gemm (gemm.ts) when the product is a single [m, k] x [k, n]
 * with a bias at most: A transposed is read with strides (no copy); B transposed is computed as
 * C^T = B A^T and transposed back. Shapes the gemm cannot tile (m not a multiple of 4, n of 8)
 * and batched products go to `fallback`. XNNPACK's fully-connected operator repacks
 * the whole weight matrix on every call, which dominated Conv-2's dense layers (16384 x 256):
 * see tools/bench/train-kernels.mjs.
 */
export function makeGemmMatMul(fallback: KernelFunc): KernelFunc {
  return (args) => {
    const { inputs, backend, attrs } = args;
    const { a, b, bias, preluActivationWeights } = inputs as { a: TensorInfo; b: TensorInfo; bias?: TensorInfo; preluActivationWeights?: TensorInfo };
    const { transposeA, transposeB, activation } = attrs as unknown as MatMulAttrs;
    const heap = backend as unknown as HeapBackend & WasmBackendLike;
    const memory = heap.wasm.asm?.memory;
    const gemm = memory === undefined ? null : gemmFor(memory);
    const plain = (activation === undefined || activation === 'linear') && preluActivationWeights === undefined;
    // tf.matMul hands 2-d operands over as they are, tf.fused.matMul as [1, r, c].
    const single = a.shape.length === b.shape.length && (a.shape.length === 2 || (a.shape.length === 3 && a.shape[0] === 1 && b.shape[0] === 1));
    if (!memory || !gemm || !plain || !single || a.dtype !== 'float32' || b.dtype !== 'float32' || (bias && bias.dtype !== 'float32')) return fallback(args);
    const at = (t: TensorInfo) => heap.dataIdMap.get(t.dataId).memoryOffset;
    const run = (name: string, ins: Record<string, TensorInfo>, kernelAttrs: NamedAttrMap) => call(name, heap, ins, kernelAttrs);
    const lead = a.shape.length - 2; // 0 or 1
    const [r, c] = a.shape.slice(lead) as [number, number];
    const [m, k] = transposeA ? [c, r] : [r, c];
    const n = transposeB ? b.shape[lead]! : b.shape[lead + 1]!;
    const shapeOf = (rows: number, cols: number) => (lead ? [1, rows, cols] : [rows, cols]);
    let out: TensorInfo;
    const native = nativeSgemm();
    if (native) {
      // OpenBLAS reads either operand transposed in place and needs no tile multiples (native.ts).
      out = heap.makeOutput(shapeOf(m, n), 'float32');
      native.sgemm((memory as { buffer: ArrayBuffer }).buffer, at(a), at(b), at(out), m, n, k, transposeA, transposeB);
      nativeProducts++;
    } else if (!transposeB) {
      if (m % 4 !== 0 || n % 8 !== 0) return fallback(args);
      out = heap.makeOutput(shapeOf(m, n), 'float32');
      gemmChunkedParallel(memory, at(a), at(b), at(out), m, k, n, transposeA ? 4 : k * 4, transposeA ? m * 4 : 4, n * 4, GEMM_CHUNK);
    } else {
      // C^T = B A^T: B [n, k] is the gemm's row-major left operand as it lies; A^T [k, m] (columns
      // padded to a multiple of 8) is small in the dense layers' input gradient (dy [batch, units]).
      if (transposeA || n % 4 !== 0) return fallback(args);
      const m8 = Math.ceil(m / 8) * 8;
      const scratch: TensorInfo[] = [];
      try {
        let aT = run('Transpose', { x: a }, { perm: lead ? [0, 2, 1] : [1, 0] });
        scratch.push(aT);
        if (m8 !== m) scratch.push((aT = run('PadV2', { x: aT }, { paddings: [...(lead ? [[0, 0]] : []), [0, 0], [0, m8 - m]], constantValue: 0 })));
        const ct = heap.makeOutput(shapeOf(n, m8), 'float32');
        scratch.push(ct);
        gemmChunkedParallel(memory, at(b), at(aT), at(ct), n, k, m8, k * 4, 4, m8 * 4, GEMM_CHUNK);
        out = run('Transpose', { x: ct }, { perm: lead ? [0, 2, 1] : [1, 0] });
        if (m8 !== m) {
          scratch.push(out);
          out = run('Slice', { x: out }, { begin: lead ? [0, 0, 0] : [0, 0], size: shapeOf(m, n) });
        }
      } finally {
        for (const t of scratch) heap.disposeData(t.dataId);
      }
    }
    products++;
    if (!bias) return out;
    try {
      return run('Add', { a: out, b: bias }, {});
    } finally {
      heap.disposeData(out.dataId);
    }
  };
}
