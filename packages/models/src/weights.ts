// The '@lth/models/weights' entry point: model specs, parameter counts and the seeded weight
// draws (w0, random re-initialization), none of which needs tensors. Importing it loads no
// tfjs, so @lth/rewinder and other pure-JS users stay light; '@lth/models' re-exports it all.
export { MODEL_NAMES, modelSpec, ConvNetOptions, VggOptions, ResNetOptions, type ModelName } from './zoo';
export { declareTensors, type LayerSpec, type ModelSpec, type TensorDecl } from './spec';
export { initWeights, reinitWeights } from './init';
export { paramCounts, listModels, formatModelTable, type ParamCounts, type ModelListing } from './counts';
