import type { WasmKernelConfig } from '../kernel';
import { MASKED_MATMUL, maskedMatMul } from '../sparse/masked-matmul';

/** y = x·(W⊙M) + b, the forward product of a masked dense layer (sparse/masked-matmul.ts); tfjs has no such kernel. */
export const lthMaskedMatMulConfig: WasmKernelConfig = { kernelName: MASKED_MATMUL, makeKernelFunc: () => maskedMatMul };
