export { ArtifactError } from './errors';
export { confinedPath, safeSegment, PathEscapeError } from './confine';
export { hashFile, hashBytes, canonicalJson } from './hash';
export { ARTIFACT_KINDS, readArtifact, writeArtifact, type ArtifactKind, type ArtifactTypes } from './kinds';
export {
  WEIGHT_ROLES,
  WeightRole,
  PRUNABLE_ROLES,
  isPrunable,
  ModelRef,
  BundleContent,
  TensorsMeta,
  VALUES_PER_BATCH,
  readTensors,
  writeTensors,
  getTensor,
  tensorSize,
  bundleDtype,
  type NamedTensor,
  type TensorBundle,
  type TensorValues,
  type WeightBundle,
  type MaskBundle,
} from './tensors';
export { DatasetMeta, SPLITS, readDataset, writeDataset, splitView, type Dataset, type SplitName } from './dataset';
export { MetricsMeta, MetricSplit, EarlyStop, readMetrics, writeMetrics, type Metrics, type MetricRow } from './metrics';
export { SparsityMeta, summarizeSparsity, readSparsity, writeSparsity, type Sparsity, type LayerSparsity } from './sparsity';
export { TableMeta, TableColumn, readTable, writeTable, type TableArtifact, type TableCell } from './table';
export {
  defineStage,
  plainContext,
  type StageDef,
  type AnyStageDef,
  type StageContext,
  type StageSetup,
  type Ports,
  type PortSpec,
  type Loaded,
  type Produced,
  type Progress,
} from './stage';
export { packCheckpoints, selectCheckpoint, checkpointIterations } from './checkpoints';
export { StageOutcome, StageRecord, StageTimings, TaskTimings, RunRecord, PortBinding } from './run-record';
