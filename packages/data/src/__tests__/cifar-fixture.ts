import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { pack } from 'tar-stream';
import { createRng } from '@lth/compute';
import { CIFAR_DIR, CIFAR_META_FILE, CIFAR_RECORD, CIFAR_TEST_FILE, CIFAR_TRAIN_FILES } from '../cifar';
import type { Manifest } from '../manifest';

export const CIFAR_CLASSES = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'];

/** Records in the exact CIFAR-10 binary layout: label byte, then R, G, B planes of 1024 bytes. */
export function cifarRecords(count: number, seed: string): Uint8Array {
  const rng = createRng('test', seed);
  const out = new Uint8Array(count * CIFAR_RECORD);
  for (let r = 0; r < count; r++) {
    out[r * CIFAR_RECORD] = rng.int(10);
    for (let p = 1; p < CIFAR_RECORD; p++) out[r * CIFAR_RECORD + p] = rng.int(256);
  }
  return out;
}

/** A real cifar-10-binary.tar.gz: cifar-10-batches-bin/data_batch_1..5.bin, test_batch.bin, batches.meta.txt. */
export async function cifarArchive(perBatch: number, testCount: number): Promise<{ archive: Buffer; batches: Map<string, Uint8Array> }> {
  const batches = new Map<string, Uint8Array>();
  CIFAR_TRAIN_FILES.forEach((f, i) => batches.set(f, cifarRecords(perBatch, `train${i}`)));
  batches.set(CIFAR_TEST_FILE, cifarRecords(testCount, 'test'));
  const p = pack();
  const chunks: Buffer[] = [];
  p.on('data', (c: Buffer) => chunks.push(c));
  const ended = new Promise((resolve) => p.on('end', resolve));
  p.entry({ name: `${CIFAR_DIR}/`, type: 'directory' });
  p.entry({ name: `${CIFAR_DIR}/${CIFAR_META_FILE}` }, `${CIFAR_CLASSES.join('\n')}\n\n`);
  for (const [name, bytes] of batches) p.entry({ name: `${CIFAR_DIR}/${name}` }, Buffer.from(bytes));
  p.finalize();
  await ended;
  return { archive: gzipSync(Buffer.concat(chunks)), batches };
}

export function sha256(b: Uint8Array): string {
  return createHash('sha256').update(b).digest('hex');
}

export function cifarManifest(archive: Buffer, perBatch: number, testCount: number, url: string): Manifest {
  return {
    name: 'cifar10',
    description: 'test CIFAR-10 in the exact binary format, small',
    format: 'cifar10-binary',
    shape: [32, 32, 3],
    classes: CIFAR_CLASSES,
    counts: { train: 5 * perBatch, test: testCount },
    files: { archive: { name: 'cifar-10-binary.tar.gz', size: archive.length, sha256: sha256(archive), url } },
    local: [],
  };
}
