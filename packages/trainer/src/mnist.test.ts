import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend } from '@lth/compute';
import { loadDataset } from '@lth/data';
import { initWeights } from '@lth/models';
import { train } from './train';

// The root Jest config runs packages as projects, where a project's testTimeout is ignored.
jest.setTimeout(120000);

beforeAll(async () => {
  await initBackend();
});

describe('LeNet-300-100 on a 2,000-image MNIST subset', () => {
  it('reaches > 85% test accuracy in 200 Adam iterations at the paper settings (batch 60, lr 1.2e-3)', async () => {
    const cacheDir = mkdtempSync(join(tmpdir(), 'lth-trainer-mnist-'));
    try {
      // No network: the files come from the copy on this machine, verified by sha256.
      const data = await loadDataset({ dataset: 'mnist', validation: 1000, subset: 2000 }, { cacheDir, download: false });
      const r = await train(
        { weights: initWeights({ arch: 'lenet_300_100', options: {} }, 0), data },
        { iterations: 200, evalEvery: 100, evalBatchSize: 1000, trainEvalExamples: 1000 },
      );
      const test = r.metrics.rows.filter((x) => x.split === 'test');
      expect(test.map((x) => x.iteration)).toEqual([0, 100, 200]);
      expect(test[0]!.accuracy).toBeLessThan(0.3);
      expect(test[2]!.accuracy).toBeGreaterThan(0.85);
      const es = r.metrics.meta.earlyStop!;
      expect([100, 200]).toContain(es.iteration);
      expect(es.testAccuracy).toBeGreaterThan(0.85);
    } finally {
      rmSync(cacheDir, { recursive: true, force: true });
    }
  });
});
