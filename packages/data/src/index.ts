export { syntheticDataset, type SyntheticOptions } from './synthetic';
export { channelStats, normalizationTable, type Normalization } from './normalize';
export {
  batchIterator,
  evalBatches,
  epochOrder,
  disposeBatch,
  CROP_PADDING,
  type Batch,
  type BatchOptions,
  type EvalOptions,
} from './batches';
