export { InstabilityConfig, CopyTrainConfig, BatchNormConfig, EVAL_SPLITS, copySeeds, seedsOf, type InstabilityConfigInput } from './config';
export { alphaGrid, evaluatePath, instabilityOf, type PathModel, type PathPoint, type PathOptions, type Endpoint, type SplitInstability } from './path';
export { recomputeBatchNorm, type RecomputeOptions } from './batchnorm';
export { pathTable, summaryTable, finalTestAccuracy, PATH_COLUMNS, SUMMARY_COLUMNS, type AnalysisContext } from './tables';
export { instability, startingPoint, type InstabilityInputs, type InstabilityResult, type InstabilityOptions } from './instability';
export { instabilityStage, stages } from './stage';
