import type { Dataset, DatasetMeta } from '@lth/artifacts';
import { createRng } from '@lth/compute';
import { channelStats } from './normalize';

export interface RawSplits {
  /** HWC uint8 pixels, one image after the other. */
  train: { images: Uint8Array; labels: Uint8Array };
  test: { images: Uint8Array; labels: Uint8Array };
}

export interface SplitOptions {
  /** Training examples held out for validation. */
  validation: number;
  /** Chooses the held-out examples. */
  seed: number;
  /** Keep only the first N training examples after the hold-out. */
  subset?: number;
}

/**
 * Which rows of the original training set are held out for validation: a seeded random choice
 * of `validation` rows. Both lists are in ascending order, so the artifact keeps the source order
 * and the batch iterator does the shuffling.
 */
export function holdout(count: number, validation: number, seed: number): { train: Int32Array; validation: Int32Array } {
  const perm = createRng('holdout', seed).permutation(count);
  const held = new Uint8Array(count);
  for (let i = 0; i < validation; i++) held[perm[i]!] = 1;
  const train = new Int32Array(count - validation);
  const val = new Int32Array(validation);
  let t = 0;
  let v = 0;
  for (let i = 0; i < count; i++) {
    if (held[i]) val[v++] = i;
    else train[t++] = i;
  }
  return { train, validation: val };
}

/** Checks validation and subset against the number of training examples, before any work. */
export function checkSplitOptions(name: string, trainCount: number, opts: SplitOptions): void {
  const n = trainCount;
  if (!Number.isInteger(opts.validation) || opts.validation < 0 || opts.validation >= n) {
    throw new Error(`data/load: validation must be an integer in 0..${n - 1} (dataset ${name} has ${n} training examples), got ${opts.validation}`);
  }
  const left = n - opts.validation;
  if (opts.subset !== undefined && (!Number.isInteger(opts.subset) || opts.subset < 1 || opts.subset > left)) {
    throw new Error(`data/load: subset must be an integer in 1..${left} (training examples left after holding out ${opts.validation}), got ${opts.subset}`);
  }
}

/**
 * Builds the dataset artifact's content: rows ordered train, validation, test; normalization
 * statistics from the (possibly subset) training rows only.
 */
export function assembleDataset(raw: RawSplits, info: Pick<DatasetMeta, 'name' | 'shape' | 'classes' | 'source'>, opts: SplitOptions): Dataset {
  const size = info.shape[0] * info.shape[1] * info.shape[2];
  const n = raw.train.labels.length;
  checkSplitOptions(info.name, n, opts);
  const split = holdout(n, opts.validation, opts.seed);
  let trainRows = split.train;
  if (opts.subset !== undefined) {
    trainRows = trainRows.subarray(0, opts.subset);
  }
  const testCount = raw.test.labels.length;
  const total = trainRows.length + split.validation.length + testCount;
  const images = new Uint8Array(total * size);
  const labels = new Uint8Array(total);
  let row = 0;
  for (const rows of [trainRows, split.validation]) {
    for (const src of rows) {
      images.set(raw.train.images.subarray(src * size, (src + 1) * size), row * size);
      labels[row++] = raw.train.labels[src]!;
    }
  }
  images.set(raw.test.images, row * size);
  labels.set(raw.test.labels, row);
  const meta: DatasetMeta = {
    name: info.name,
    shape: info.shape,
    classes: info.classes,
    splits: {
      train: { offset: 0, count: trainRows.length },
      validation: { offset: trainRows.length, count: split.validation.length },
      test: { offset: trainRows.length + split.validation.length, count: testCount },
    },
    normalization: channelStats(images.subarray(0, trainRows.length * size), info.shape[2]),
    source: info.source,
    seed: opts.seed,
  };
  return { meta, images, labels };
}

/** Examples per class of one split: an array indexed by class. */
export function classCounts(labels: Uint8Array, classes: number): number[] {
  const counts = new Array<number>(classes).fill(0);
  for (const l of labels) counts[l] = (counts[l] ?? 0) + 1;
  return counts;
}
