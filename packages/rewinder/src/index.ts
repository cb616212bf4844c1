export { applyMask } from './apply';
export { resetWeights } from './reset';
export { randomReinit } from './reinit';
export { ResetConfig, ReinitConfig, resetStage, reinitStage, stages } from './stage';
