export {
  TrainConfig,
  OptimizerConfig,
  AdamConfig,
  SgdConfig,
  ScheduleConfig,
  ConstantSchedule,
  PiecewiseSchedule,
  Step,
  parseTrainConfig,
  resolvePlan,
  toIterations,
  iterationsPerEpoch,
  type TrainConfigInput,
  type ResolvedPlan,
} from './config';
export { learningRate } from './schedule';
export { createOptimizer, type MaskedOptimizer, type OptimizerOptions } from './optimizers';
export { maskTensors, remainingFraction } from './mask';
export { crossEntropy, evaluateSplit, evaluateSteps, earlyStopFrom, type SplitEval } from './evaluate';
export { train, trainModel, type TrainInputs, type TrainResult, type TrainOptions } from './train';
export { TrainingAborted, type TrainableModel } from './types';
export { trainStage, stages } from './stage';
