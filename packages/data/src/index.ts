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
export { LoadConfig, LOADABLE, SYNTHETIC_POOL, loadDataset, type LoadOptions, type LoadReport } from './load';
export { loadStage, stages } from './stage';
export { listDatasets, describeDataset, type DatasetListing, type DatasetDescription, type Availability } from './describe';
export {
  Manifest,
  ManifestError,
  ManifestFile,
  DATASET_NAMES,
  FORMATS,
  loadManifest,
  parseManifest,
  type DatasetName,
  type LocalSource,
} from './manifest';
export { BUNDLED_MANIFESTS, cacheDir, cacheDirChoice, checkoutRoot, manifestDir, type CacheDirRule } from './paths';
export { resolveFiles, resolveFile, locateFile, downloadsAllowed, type Origin, type SourceOptions, type ResolvedFile } from './sources';
export { downloadFile, verifyContent, writeFileAtomic, type DownloadOptions } from './download';
export { parseIdx, encodeIdx, maybeGunzip, isGzip, type IdxArray } from './idx';
export {
  parseCifarBatch,
  parseCifarArchive,
  readTarMembers,
  CIFAR_RECORD,
  CIFAR_DIR,
  CIFAR_TRAIN_FILES,
  CIFAR_TEST_FILE,
  CIFAR_META_FILE,
} from './cifar';
export { holdout, assembleDataset, classCounts, type RawSplits, type SplitOptions } from './splits';
