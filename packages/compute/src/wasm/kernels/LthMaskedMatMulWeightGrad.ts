import type { WasmKernelConfig } from '../kernel';
import { MASKED_MATMUL_WEIGHT_GRAD, maskedMatMulWeightGrad } from '../sparse/masked-matmul';

/** dW = (x^T·dy) ⊙ M, the weight gradient of a masked dense layer at its kept entries (sparse/masked-matmul.ts); tfjs has no such kernel. */
export const lthMaskedMatMulWeightGradConfig: WasmKernelConfig = { kernelName: MASKED_MATMUL_WEIGHT_GRAD, makeKernelFunc: () => maskedMatMulWeightGrad };
