import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeDataset } from './describe';

const DEBIAN_DIR = '/usr/share/datasets/fashion-mnist';
const installed = existsSync(join(DEBIAN_DIR, 'train-images-idx3-ubyte.gz'));
const suite = installed ? describe : describe.skip;

if (!installed) {
  // Jest shows skipped tests without a reason; say it here.
  console.warn(`Fashion-MNIST tests skipped: ${DEBIAN_DIR} is missing (install it with: apt-get install -y dataset-fashion-mnist)`);
}

suite(
  `Fashion-MNIST from the Debian package dataset-fashion-mnist${installed ? '' : ' (SKIPPED: not installed; apt-get install -y dataset-fashion-mnist)'}`,
  () => {
    it('loads offline with 6,000 training and 1,000 test images per class', async () => {
      const cache = mkdtempSync(join(tmpdir(), 'lth-fashion-'));
      try {
        const d = await describeDataset('fashion_mnist', { cacheDir: cache, download: false, validation: 0 });
        expect(d.source).toBe(`local: ${DEBIAN_DIR}`);
        expect(d.classes[9]).toBe('Ankle boot');
        expect(d.splits.train).toEqual({ count: 60000, classCounts: new Array(10).fill(6000) });
        expect(d.splits.test).toEqual({ count: 10000, classCounts: new Array(10).fill(1000) });
      } finally {
        rmSync(cache, { recursive: true, force: true });
      }
    });
  },
);
