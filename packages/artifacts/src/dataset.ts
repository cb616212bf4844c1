import { Field, FixedSizeList, Uint8 } from 'apache-arrow';
import { makeData } from 'apache-arrow';
import { z } from 'zod';
import { checkArtifact, fail, guardRead } from './check';
import { columnData, primitiveData } from './columns';
import { makeBatch, readIpcFile, schemaWithMeta, writeIpcFile } from './ipc';

export const DATASET_KIND = 'dataset';
export const DATASET_VERSION = 1;
export const SPLITS = ['train', 'validation', 'test'] as const;
export type SplitName = (typeof SPLITS)[number];

const SplitRange = z.object({ offset: z.number().int().nonnegative(), count: z.number().int().nonnegative() });

export const DatasetMeta = z.object({
  name: z.string().min(1),
  /** [height, width, channels]; images are stored row-major HWC, one row per example. */
  shape: z.tuple([z.number().int().positive(), z.number().int().positive(), z.number().int().positive()]),
  classes: z.array(z.string()).min(2),
  /** Rows are ordered train, validation, test; each split is a contiguous range. */
  splits: z.object({ train: SplitRange, validation: SplitRange, test: SplitRange }),
  /** Per-channel statistics of the training split, on pixel values scaled to [0, 1]. */
  normalization: z.object({ mean: z.array(z.number()), std: z.array(z.number()) }),
  /** Where the pixels came from: source file name -> sha256, and how they were obtained. */
  source: z.object({ origin: z.string(), files: z.record(z.string(), z.string()) }),
  /** The seed that chose the validation hold-out. */
  seed: z.number().int(),
});
export type DatasetMeta = z.output<typeof DatasetMeta>;

/** Decoded pixels (uint8, NHWC) and labels (uint8) of every split. */
export interface Dataset {
  meta: DatasetMeta;
  images: Uint8Array;
  labels: Uint8Array;
}

const ROWS_PER_BATCH = 10000;

function pixelsPerImage(meta: DatasetMeta): number {
  return meta.shape[0] * meta.shape[1] * meta.shape[2];
}

function checkDataset(file: string, d: Dataset): void {
  const n = d.labels.length;
  if (d.images.length !== n * pixelsPerImage(d.meta)) {
    fail(file, `images hold ${d.images.length} bytes, expected ${n} x ${pixelsPerImage(d.meta)}`);
  }
  const { train, validation, test } = d.meta.splits;
  if (train.offset !== 0 || validation.offset !== train.count || test.offset !== train.count + validation.count) {
    fail(file, 'splits must be contiguous in the order train, validation, test');
  }
  if (train.count + validation.count + test.count !== n) fail(file, `split counts do not add up to ${n} rows`);
  const c = d.meta.shape[2];
  if (d.meta.normalization.mean.length !== c || d.meta.normalization.std.length !== c) {
    fail(file, `normalization needs ${c} channel values`);
  }
  const classes = d.meta.classes.length;
  for (let i = 0; i < n; i++) {
    if ((d.labels[i] as number) >= classes) fail(file, `label ${d.labels[i]} of row ${i} is not a class (0..${classes - 1})`);
  }
}

export async function writeDataset(file: string, d: Dataset): Promise<void> {
  DatasetMeta.parse(d.meta);
  checkDataset(file, d);
  const size = pixelsPerImage(d.meta);
  const imageType = new FixedSizeList(size, new Field('pixel', new Uint8(), false));
  const schema = schemaWithMeta([new Field('image', imageType, false), new Field('label', new Uint8(), false)], DATASET_KIND, DATASET_VERSION, d.meta);
  const n = d.labels.length;
  function* batches() {
    for (let start = 0; start < n || start === 0; start += ROWS_PER_BATCH) {
      const end = Math.min(n, start + ROWS_PER_BATCH);
      const pixels = d.images.subarray(start * size, end * size);
      const child = makeData({ type: new Uint8(), length: pixels.length, nullCount: 0, data: pixels });
      const images = makeData({ type: imageType, length: end - start, nullCount: 0, child });
      yield makeBatch(schema, end - start, [images as never, primitiveData(new Uint8(), d.labels.subarray(start, end))]);
      if (n === 0) break;
    }
  }
  await writeIpcFile(file, schema, batches());
}

export function readDataset(file: string, opts: { sha256?: string } = {}): Dataset {
  return guardRead(file, () => {
    const read = readIpcFile(file, opts);
    const meta = checkArtifact(
      file,
      read,
      DATASET_KIND,
      DATASET_VERSION,
      [
        ['image', /^FixedSizeList\[\d+\]<Uint8>$/],
        ['label', 'Uint8'],
      ],
      DatasetMeta,
    );
    const size = pixelsPerImage(meta);
    const n = read.table.numRows;
    const images = new Uint8Array(n * size);
    const labels = new Uint8Array(n);
    let row = 0;
    for (const batch of read.table.batches) {
      const img = columnData(batch, 'image');
      if ((img.type as FixedSizeList).listSize !== size) fail(file, `images have ${(img.type as FixedSizeList).listSize} pixels, metadata shape says ${size}`);
      const child = img.children[0];
      if (!child) fail(file, 'image column has no pixel data');
      const pixels = (child.values as Uint8Array).subarray(child.offset + img.offset * size, child.offset + (img.offset + batch.numRows) * size);
      images.set(pixels, row * size);
      const lab = columnData(batch, 'label');
      labels.set((lab.values as Uint8Array).subarray(lab.offset, lab.offset + batch.numRows), row);
      row += batch.numRows;
    }
    const d = { meta, images, labels };
    checkDataset(file, d);
    return d;
  });
}

/** The rows of one split, as views (no copy). */
export function splitView(d: Dataset, split: SplitName): { images: Uint8Array; labels: Uint8Array; count: number } {
  const { offset, count } = d.meta.splits[split];
  const size = pixelsPerImage(d.meta);
  return {
    images: d.images.subarray(offset * size, (offset + count) * size),
    labels: d.labels.subarray(offset, offset + count),
    count,
  };
}
