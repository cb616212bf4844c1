import type { WasmKernelConfig } from '../kernel';
import { TO_BATCH_MINOR, toBatchMinor } from '../sparse/batch-minor';

/** x [batch, features] -> [features, lanes], the layout of the sparse kernels (sparse/batch-minor.ts); tfjs has no such kernel. */
export const lthToBatchMinorConfig: WasmKernelConfig = { kernelName: TO_BATCH_MINOR, makeKernelFunc: () => toBatchMinor };
