export { MODEL_NAMES, modelSpec, ConvNetOptions, VggOptions, ResNetOptions, type ModelName } from './zoo';
export { declareTensors, type LayerSpec, type ModelSpec, type TensorDecl } from './spec';
export { initWeights, reinitWeights } from './init';
export { createModel, BN_MOMENTUM, BN_EPSILON, type Model, type ApplyOptions } from './model';
export { denseTailStart, type Inference } from './inference';
export { SparseMode, type SparseLayer } from './sparse-layers';
export { denseChain, convChain, type DenseChainStep, type ConvChain, type ConvChainStep } from './dense-chain';
export { paramCounts, listModels, formatModelTable, type ParamCounts, type ModelListing } from './counts';
export { initStage, stages, InitConfig } from './stage';
export { exportLayersModel, buildLayersModel, loadExportedLayersModel, layersModelFiles, type ExportResult, type LayersModelFiles } from './export';
export {
  exportModel,
  exportMetadata,
  exportFileNames,
  EXPORT_FORMATS,
  EXPORT_FILES,
  type ExportFormat,
  type ExportInput,
  type ExportProvenance,
  type ExportedFiles,
} from './export-files';
export { ExportTargetExistsError } from './atomic';
export { ExportInputError } from './masked';
export { exportStage, ExportConfig } from './export-stage';
export { encodeSafetensors, decodeSafetensors, type SafeTensor, type SafetensorsDtype, type DecodedSafetensors } from './safetensors';
export { torchStateDict, torchPlan, type TorchOp } from './torch-layout';
export { torchModuleSource } from './torch-module';
