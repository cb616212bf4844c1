import { readDataset, writeDataset, type Dataset } from './dataset';
import { readMetrics, writeMetrics, type Metrics } from './metrics';
import { readSparsity, writeSparsity, type Sparsity } from './sparsity';
import { readTable, writeTable, type TableArtifact } from './table';
import { readTensors, writeTensors, type TensorBundle } from './tensors';

/** Every artifact kind and the in-memory value it holds. */
export interface ArtifactTypes {
  dataset: Dataset;
  tensors: TensorBundle;
  metrics: Metrics;
  sparsity: Sparsity;
  table: TableArtifact;
}
export type ArtifactKind = keyof ArtifactTypes;
export const ARTIFACT_KINDS: readonly ArtifactKind[] = ['dataset', 'tensors', 'metrics', 'sparsity', 'table'];

type Codec<K extends ArtifactKind> = {
  write(file: string, value: ArtifactTypes[K]): Promise<void>;
  read(file: string, opts?: { sha256?: string }): ArtifactTypes[K];
};
const CODECS: { [K in ArtifactKind]: Codec<K> } = {
  dataset: { write: writeDataset, read: readDataset },
  tensors: { write: writeTensors, read: readTensors },
  metrics: { write: writeMetrics, read: readMetrics },
  sparsity: { write: writeSparsity, read: readSparsity },
  table: { write: writeTable, read: readTable },
};

/** Writes any artifact atomically (temp file + rename). */
export function writeArtifact<K extends ArtifactKind>(file: string, kind: K, value: ArtifactTypes[K]): Promise<void> {
  return CODECS[kind].write(file, value);
}

/** Reads and validates an artifact of the given kind; verifies its sha256 when given. */
export function readArtifact<K extends ArtifactKind>(file: string, kind: K, opts: { sha256?: string } = {}): ArtifactTypes[K] {
  return CODECS[kind].read(file, opts);
}
