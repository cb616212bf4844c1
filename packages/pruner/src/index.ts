export { PrunableRole, Rounding, LayerwisePrune, GlobalPrune, PruneSpec, MagnitudeConfig, RandomConfig, type PruneSpecInput } from './config';
export { roundCount, pruneCount, remainingAfter, keepCount } from './counts';
export { pruneLowest, magnitudeKeys, type KeyedPart } from './select';
export { currentMask, checkMask, countOnes, maskSparsity, type PruneResult } from './masks';
export { pruneByKeys } from './prune';
export { magnitudePrune } from './magnitude';
export { randomPrune, randomMaskLike } from './random';
export { magnitudeStage, randomStage, stages } from './stage';
