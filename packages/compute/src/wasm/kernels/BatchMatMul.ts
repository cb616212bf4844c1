import { BatchMatMul } from '@tensorflow/tfjs-core';
import { makeGemmMatMul } from '../gemm/matmul';
import { makeUntransposedMatMul } from '../gemm/untransposed';
import { required, type WasmKernelConfig } from '../kernel';

/**
 * Single products on the SIMD gemm (gemm/matmul.ts); the rest through tfjs-backend-wasm's own,
 * with transposed operands transposed explicitly first (gemm/untransposed.ts).
 */
export const batchMatMulConfig: WasmKernelConfig = {
  kernelName: BatchMatMul,
  makeKernelFunc: (original) => makeGemmMatMul(makeUntransposedMatMul(required(BatchMatMul, original))),
};
