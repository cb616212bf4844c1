export {
  TrainConfig,
  OptimizerConfig,
  AdamConfig,
  SgdConfig,
  ScheduleConfig,
  ConstantSchedule,
  PiecewiseSchedule,
  EvaluateConfig,
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
export {
  crossEntropy,
  addBatchSums,
  evalForward,
  evaluateBatches,
  evaluateSplit,
  evaluateSteps,
  earlyStopFrom,
  type SplitEval,
  type EvalBatch,
  type EvalForward,
  type EvalSums,
} from './evaluate';
export { EvalData, DEFAULT_EVAL_CACHE_BYTES, type EvalSource } from './eval-data';
export { Evaluator, type EvaluatorOptions } from './evaluator';
export { train, trainModel, type TrainInputs, type TrainResult, type TrainOptions, type TrainPhases } from './train';
export { TrainingAborted, type TrainableModel } from './types';
export { trainStage, stages } from './stage';
