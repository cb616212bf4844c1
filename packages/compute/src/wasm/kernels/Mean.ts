import { Mean } from '@tensorflow/tfjs-core';
import { required, type WasmKernelConfig } from '../kernel';
import { makeMatMulReduce } from '../matmul-reduce';

/** Mean over leading axes (batch-norm statistics) as a product with a row of 1/n (matmul-reduce.ts). */
export const meanConfig: WasmKernelConfig = {
  kernelName: Mean,
  makeKernelFunc: (original) => makeMatMulReduce(required(Mean, original), true),
};
