import { CIFAR_RECORD, parseCifarArchive, parseCifarBatch } from './cifar';
import { gzipSync } from 'node:zlib';
import { cifarArchive, CIFAR_CLASSES } from './__tests__/cifar-fixture';

describe('CIFAR-10 binary parser', () => {
  it('turns channel-planar records into HWC pixels and labels', () => {
    const rec = new Uint8Array(2 * CIFAR_RECORD);
    rec[0] = 3;
    rec[CIFAR_RECORD] = 9;
    // record 0: pixel (0,1) has R=10, G=20, B=30; record 1: last pixel (31,31) has R=1, G=2, B=3
    rec[1 + 1] = 10;
    rec[1 + 1024 + 1] = 20;
    rec[1 + 2048 + 1] = 30;
    rec[CIFAR_RECORD + 1 + 1023] = 1;
    rec[CIFAR_RECORD + 1 + 1024 + 1023] = 2;
    rec[CIFAR_RECORD + 1 + 2048 + 1023] = 3;
    const { images, labels, count } = parseCifarBatch(rec, 'b.bin');
    expect(count).toBe(2);
    expect(Array.from(labels)).toEqual([3, 9]);
    expect(Array.from(images.subarray(3, 6))).toEqual([10, 20, 30]);
    expect(Array.from(images.subarray(3072 + 1023 * 3, 3072 + 1024 * 3))).toEqual([1, 2, 3]);
    expect(images.reduce((a, b) => a + b, 0)).toBe(66);
  });

  it('rejects a partial record and out-of-range labels', () => {
    expect(() => parseCifarBatch(new Uint8Array(CIFAR_RECORD + 5), 'p.bin')).toThrow(/p\.bin: 3078 bytes is not a whole number of CIFAR-10 records/);
    const rec = new Uint8Array(CIFAR_RECORD);
    rec[0] = 10;
    expect(() => parseCifarBatch(rec, 'l.bin')).toThrow(/l\.bin: record 0 has label 10/);
  });

  it('reads a cifar-10-binary.tar.gz: five training batches in order, the test batch, the class names', async () => {
    const { archive, batches } = await cifarArchive(4, 6);
    const parsed = await parseCifarArchive(archive, 'a.tar.gz', { train: 20, test: 6, classes: CIFAR_CLASSES });
    expect(parsed.classNames).toEqual(CIFAR_CLASSES);
    expect(parsed.train.labels).toHaveLength(20);
    const b3 = batches.get('data_batch_3.bin')!;
    // Row 8 is the first record of data_batch_3.
    expect(parsed.train.labels[8]).toBe(b3[0]);
    expect(parsed.train.images[8 * 3072 + 2]).toBe(b3[1 + 2048]);
    expect(Array.from(parsed.test.labels)).toEqual(Array.from({ length: 6 }, (_, r) => batches.get('test_batch.bin')![r * CIFAR_RECORD]));
    await expect(parseCifarArchive(archive, 'a.tar.gz', { train: 25, test: 6, classes: CIFAR_CLASSES })).rejects.toThrow(
      /training batches hold 20 records, the manifest says 25/,
    );
  });

  it('names a missing member', async () => {
    await expect(parseCifarArchive(gzipSync(Buffer.alloc(1024)), 'empty.tar.gz', { train: 5, test: 1, classes: CIFAR_CLASSES })).rejects.toThrow(
      /empty\.tar\.gz: archive has no cifar-10-batches-bin\/data_batch_1\.bin/,
    );
  });
});
