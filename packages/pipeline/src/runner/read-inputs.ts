import { readArtifact, type Dataset } from '@lth/artifacts';
import type { TaskInput } from '../cache/bind';

/**
 * Datasets kept by content hash in this process, at most this many bytes of images + labels.
 * MNIST is 55 MB, CIFAR-10 184 MB; a worker process keeps one or two.
 */
export const DATASET_MEMO_BYTES = 512 * 2 ** 20;

interface Kept {
  dataset: Dataset;
  bytes: number;
}

/**
 * Verified datasets by sha256, least recently used first (a Map keeps insertion order).
 *
 * Why: a worker process runs stage after stage, and in a lottery experiment every training
 * reads the same dataset artifact; reading, hashing and decoding MNIST took ~0.3 s per stage,
 * on the experiment's critical path once per round. The key is the hash the task names, and
 * the first read checked the file against it, so a later task naming the same hash gets
 * exactly the bytes it asked for, whatever has happened to the file since (a file changed on
 * disk is caught by the next process that reads it). Only datasets: they are large, and read
 * the same way by every training.
 */
const memo = new Map<string, Kept>();
let memoBytes = 0;

/**
 * One bound input as its stage receives it: read with its hash checked, or, for a dataset this
 * process has read and verified before, a copy of that one. Each call returns its own arrays, so
 * a stage that wrote into its input could not change what the next stage gets.
 */
export function readInput(input: TaskInput, limitBytes = DATASET_MEMO_BYTES): unknown {
  if (input.kind !== 'dataset') return readArtifact(input.file, input.kind, { sha256: input.sha256 });
  const kept = memo.get(input.sha256);
  if (kept) {
    memo.delete(input.sha256);
    memo.set(input.sha256, kept);
    return copyOf(kept.dataset);
  }
  const dataset = readArtifact(input.file, 'dataset', { sha256: input.sha256 });
  const bytes = dataset.images.byteLength + dataset.labels.byteLength;
  if (bytes <= limitBytes) {
    for (const [hash, old] of memo) {
      if (memoBytes + bytes <= limitBytes) break;
      memo.delete(hash);
      memoBytes -= old.bytes;
    }
    memo.set(input.sha256, { dataset: copyOf(dataset), bytes });
    memoBytes += bytes;
  }
  return dataset;
}

/** Forgets every kept dataset (tests; a process that wants the memory back). */
export function clearInputMemo(): void {
  memo.clear();
  memoBytes = 0;
}

/** The number of datasets kept and their bytes. */
export function inputMemoSize(): { datasets: number; bytes: number } {
  return { datasets: memo.size, bytes: memoBytes };
}

function copyOf(d: Dataset): Dataset {
  return { meta: structuredClone(d.meta), images: d.images.slice(), labels: d.labels.slice() };
}
