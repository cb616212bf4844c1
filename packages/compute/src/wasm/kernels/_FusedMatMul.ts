import { _FusedMatMul } from '@tensorflow/tfjs-core';
import { makeGemmMatMul } from '../gemm/matmul';
import { makeUntransposedMatMul } from '../gemm/untransposed';
import { required, type WasmKernelConfig } from '../kernel';

/** As BatchMatMul.ts; products with an activation go to tfjs-backend-wasm's own. */
export const _fusedMatMulConfig: WasmKernelConfig = {
  kernelName: _FusedMatMul,
  makeKernelFunc: (original) => makeGemmMatMul(makeUntransposedMatMul(required(_FusedMatMul, original))),
};
