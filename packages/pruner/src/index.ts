export {
  PrunableRole,
  Rounding,
  LayerwisePrune,
  GlobalPrune,
  PruneSpec,
  MagnitudeConfig,
  RandomConfig,
  type PruneSpecInput,
} from './config';
export { roundCount, pruneCount, remainingAfter, keepCount } from './counts';
export { pruneLowest, magnitudeKeys, type KeyedPart } from './select';
export { currentMask, checkMask, countOnes, maskSparsity, type PruneResult } from './masks';
export { magnitudePrune, randomPrune, randomMaskLike, pruneByKeys } from './prune';
export { magnitudeStage, randomStage, stages } from './stage';
