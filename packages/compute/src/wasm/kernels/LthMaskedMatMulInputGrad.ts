import type { WasmKernelConfig } from '../kernel';
import { MASKED_MATMUL_INPUT_GRAD, maskedMatMulInputGrad } from '../sparse/masked-matmul';

/** dx = dy·(W⊙M)^T, the input gradient of a masked dense layer (sparse/masked-matmul.ts); tfjs has no such kernel. */
export const lthMaskedMatMulInputGradConfig: WasmKernelConfig = { kernelName: MASKED_MATMUL_INPUT_GRAD, makeKernelFunc: () => maskedMatMulInputGrad };
