import { Sum } from '@tensorflow/tfjs-core';
import { required, type WasmKernelConfig } from '../kernel';
import { makeMatMulReduce } from '../matmul-reduce';

/** Sum over leading axes (batch-norm statistics) as a product with a row of ones (matmul-reduce.ts). */
export const sumConfig: WasmKernelConfig = {
  kernelName: Sum,
  makeKernelFunc: (original) => makeMatMulReduce(required(Sum, original), false),
};
