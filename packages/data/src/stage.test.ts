import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { plainContext, readDataset, splitView, writeDataset } from '@lth/artifacts';
import { LoadConfig, SYNTHETIC_POOL } from './load';
import { describeDataset } from './describe';
import { loadStage, stages } from './stage';

describe('data/load stage', () => {
  it('is registered with its id, config schema and output port', () => {
    expect(stages.map((s) => s.id)).toEqual(['data/load']);
    expect(loadStage.outputs.dataset.kind).toBe('dataset');
    expect(LoadConfig.parse({ dataset: 'mnist' })).toEqual({ dataset: 'mnist', validation: 5000, seed: 0 });
    expect(LoadConfig.safeParse({ dataset: 'imagenet' }).success).toBe(false);
    expect(LoadConfig.safeParse({ dataset: 'mnist', validation: -1 }).success).toBe(false);
  });

  it('runs as a plain function and its output round-trips through the artifact', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lth-stage-'));
    try {
      const logs: string[] = [];
      const ctx = plainContext(dir, { log: (m) => logs.push(m) });
      const { dataset } = await loadStage.run(ctx, LoadConfig.parse({ dataset: 'synthetic', seed: 4, subset: 100 }), {});
      expect(dataset.meta.splits.train.count).toBe(100);
      expect(dataset.meta.splits.validation.count).toBe(SYNTHETIC_POOL.maxValidation);
      expect(dataset.meta.splits.test.count).toBe(SYNTHETIC_POOL.test);
      expect(logs.join('\n')).toMatch(/synthetic: 100 train, 50 validation, 100 test/);
      const file = join(dir, 'ds.arrow');
      await writeDataset(file, dataset);
      const back = readDataset(file);
      expect(back.meta).toEqual(dataset.meta);
      expect(Buffer.from(splitView(back, 'test').images).equals(Buffer.from(splitView(dataset, 'test').images))).toBe(true);
      // Same config, same bytes.
      const again = await loadStage.run(ctx, LoadConfig.parse({ dataset: 'synthetic', seed: 4, subset: 100 }), {});
      expect(Buffer.from(again.dataset.images).equals(Buffer.from(dataset.images))).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('describeDataset', () => {
  it('describes the synthetic dataset without files', async () => {
    const d = await describeDataset('synthetic');
    expect(d.source).toBe('generated');
    expect(d.splits.validation.count).toBe(SYNTHETIC_POOL.maxValidation);
    expect(d.splits.train.classCounts.reduce((a, b) => a + b, 0)).toBe(SYNTHETIC_POOL.train - SYNTHETIC_POOL.maxValidation);
    expect(d.splits.test.classCounts).toHaveLength(10);
  });
});
