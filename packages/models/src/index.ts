export { MODEL_NAMES, modelSpec, ConvNetOptions, VggOptions, ResNetOptions, type ModelName } from './zoo';
export { declareTensors, type LayerSpec, type ModelSpec, type TensorDecl } from './spec';
export { initWeights, reinitWeights } from './init';
export { createModel, BN_MOMENTUM, BN_EPSILON, type Model, type ApplyOptions } from './model';
export { denseTailStart, type Inference } from './inference';
export { paramCounts, listModels, formatModelTable, type ParamCounts, type ModelListing } from './counts';
export { initStage, stages, InitConfig } from './stage';
export { exportLayersModel, buildLayersModel, loadExportedLayersModel, type ExportResult } from './export';
