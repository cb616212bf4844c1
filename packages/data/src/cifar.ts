import { gunzipSync } from 'node:zlib';
import { extract } from 'tar-stream';
import { Readable } from 'node:stream';

/** One CIFAR-10 binary record: 1 label byte, then 1024 red, 1024 green, 1024 blue bytes. */
export const CIFAR_RECORD = 1 + 3 * 32 * 32;
export const CIFAR_DIR = 'cifar-10-batches-bin';
export const CIFAR_TRAIN_FILES = [1, 2, 3, 4, 5].map((i) => `data_batch_${i}.bin`);
export const CIFAR_TEST_FILE = 'test_batch.bin';
export const CIFAR_META_FILE = 'batches.meta.txt';

/** Reads every regular file of a (gzip-compressed) tar archive into memory, keyed by path. */
export async function readTarMembers(archive: Uint8Array, file: string): Promise<Map<string, Uint8Array>> {
  let tar: Uint8Array;
  try {
    tar = gunzipSync(archive);
  } catch (err) {
    throw new Error(`${file}: corrupt gzip data: ${(err as Error).message}`, { cause: err });
  }
  const members = new Map<string, Uint8Array>();
  const ex = extract();
  const done = new Promise<void>((resolve, reject) => {
    ex.on('entry', (header, stream, next) => {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        if (header.type === 'file') members.set(header.name.replace(/^\.\//, ''), Buffer.concat(chunks));
        next();
      });
      stream.on('error', reject);
    });
    ex.on('finish', resolve);
    ex.on('error', (err: Error) => reject(new Error(`${file}: corrupt tar archive: ${err.message}`)));
  });
  Readable.from([Buffer.from(tar.buffer, tar.byteOffset, tar.byteLength)]).pipe(ex);
  await done;
  return members;
}

/**
 * Decodes CIFAR-10 binary records into HWC uint8 images and labels. CIFAR stores each image
 * channel-planar (CHW); the dataset artifact is HWC like the rest of the pipeline.
 */
export function parseCifarBatch(bytes: Uint8Array, file: string, classes = 10): { images: Uint8Array; labels: Uint8Array; count: number } {
  if (bytes.length === 0 || bytes.length % CIFAR_RECORD !== 0) {
    throw new Error(`${file}: ${bytes.length} bytes is not a whole number of CIFAR-10 records (${CIFAR_RECORD} bytes each)`);
  }
  const count = bytes.length / CIFAR_RECORD;
  const images = new Uint8Array(count * 3072);
  const labels = new Uint8Array(count);
  for (let r = 0; r < count; r++) {
    const o = r * CIFAR_RECORD;
    const label = bytes[o]!;
    if (label >= classes) throw new Error(`${file}: record ${r} has label ${label}, expected 0..${classes - 1}`);
    labels[r] = label;
    const out = r * 3072;
    for (let p = 0; p < 1024; p++) {
      images[out + 3 * p] = bytes[o + 1 + p]!;
      images[out + 3 * p + 1] = bytes[o + 1 + 1024 + p]!;
      images[out + 3 * p + 2] = bytes[o + 1 + 2048 + p]!;
    }
  }
  return { images, labels, count };
}

/** The archive's members parsed: train = data_batch_1..5 concatenated, test = test_batch. */
export async function parseCifarArchive(
  archive: Uint8Array,
  file: string,
  expect: { train: number; test: number; classes: string[] },
): Promise<{ train: { images: Uint8Array; labels: Uint8Array }; test: { images: Uint8Array; labels: Uint8Array }; classNames?: string[] }> {
  const members = await readTarMembers(archive, file);
  const get = (name: string): Uint8Array => {
    const m = members.get(`${CIFAR_DIR}/${name}`);
    if (!m) throw new Error(`${file}: archive has no ${CIFAR_DIR}/${name} (members: ${[...members.keys()].join(', ') || 'none'})`);
    return m;
  };
  const parts = CIFAR_TRAIN_FILES.map((f) => parseCifarBatch(get(f), `${file}:${CIFAR_DIR}/${f}`, expect.classes.length));
  const trainCount = parts.reduce((a, p) => a + p.count, 0);
  if (trainCount !== expect.train) throw new Error(`${file}: training batches hold ${trainCount} records, the manifest says ${expect.train}`);
  const images = new Uint8Array(trainCount * 3072);
  const labels = new Uint8Array(trainCount);
  let row = 0;
  for (const p of parts) {
    images.set(p.images, row * 3072);
    labels.set(p.labels, row);
    row += p.count;
  }
  const test = parseCifarBatch(get(CIFAR_TEST_FILE), `${file}:${CIFAR_DIR}/${CIFAR_TEST_FILE}`, expect.classes.length);
  if (test.count !== expect.test) throw new Error(`${file}: test_batch.bin holds ${test.count} records, the manifest says ${expect.test}`);
  const meta = members.get(`${CIFAR_DIR}/${CIFAR_META_FILE}`);
  const classNames = meta
    ? Buffer.from(meta)
        .toString('utf8')
        .split('\n')
        .map((s) => s.trim())
        .filter(Boolean)
    : undefined;
  return { train: { images, labels }, test: { images: test.images, labels: test.labels }, classNames };
}
