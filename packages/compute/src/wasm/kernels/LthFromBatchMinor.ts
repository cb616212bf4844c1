import type { WasmKernelConfig } from '../kernel';
import { FROM_BATCH_MINOR, fromBatchMinor } from '../sparse/batch-minor';

/** [features, lanes] -> [batch, features], back from the layout of the sparse kernels (sparse/batch-minor.ts); tfjs has no such kernel. */
export const lthFromBatchMinorConfig: WasmKernelConfig = { kernelName: FROM_BATCH_MINOR, makeKernelFunc: () => fromBatchMinor };
