import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { plainContext, readArtifact, writeArtifact, type MaskBundle, type WeightBundle } from '@lth/artifacts';
import { initBackend } from '@lth/compute';
import { syntheticDataset } from '@lth/data';
import { initWeights } from '@lth/models';
import { train } from '@lth/trainer';
import { copySeeds, InstabilityConfig } from './config';
import { instability } from './instability';
import { instabilityStage } from './stage';

jest.setTimeout(120000);

const data = syntheticDataset({ seed: 2, shape: [28, 28, 1], classes: 10, train: 120, validation: 20, test: 50 });
const init = initWeights({ arch: 'lenet_300_100' }, 0);
const copyTrain = { iterations: 8, batchSize: 20, evalEvery: 4, trainEvalExamples: 0 };
let checkpoints: WeightBundle;

beforeAll(async () => {
  await initBackend();
  // The dense run, with w_0 and w_4 saved.
  checkpoints = (await train({ weights: init, data }, { ...copyTrain, seed: 0, checkpoints: [0, 4] })).checkpoints;
});

/** A mask keeping every other weight of each prunable tensor. */
function halfMask(w: WeightBundle): MaskBundle {
  return {
    meta: { content: 'mask', model: w.meta.model },
    tensors: w.tensors
      .filter((t) => t.role !== 'bias')
      .map((t) => ({ name: t.name, role: t.role, shape: t.shape, values: Uint8Array.from(t.values, (_, i) => i % 2) })),
  };
}

describe('analysis/instability', () => {
  it('trains two copies from k to T with distinct data orders and writes the path and the instability', async () => {
    const out = mkdtempSync(join(tmpdir(), 'lth-instab-'));
    const cfg = InstabilityConfig.parse({ label: 'dense <k>', iteration: 4, train: copyTrain, seed: 3, points: 5, splits: ['test', 'train'], examples: 40 });
    const r = await instabilityStage.run(plainContext(out, { log: () => {} }), cfg, { weights: checkpoints, data, mask: undefined });
    const [seedA, seedB] = copySeeds(3);
    expect(seedA).not.toBe(seedB);
    expect([r.copyA.meta.seed, r.copyB.meta.seed]).toEqual([seedA, seedB]);
    for (const m of [r.copyA, r.copyB]) expect(m.meta).toMatchObject({ startIteration: 4, iterations: 8 });
    // Different data orders give different networks.
    expect(r.copyA.meta.finalTrainLoss).not.toBe(r.copyB.meta.finalTrainLoss);

    // Round trip through Arrow files.
    await writeArtifact(join(out, 'path.arrow'), 'table', r.path);
    await writeArtifact(join(out, 'instability.arrow'), 'table', r.instability);
    const path = readArtifact(join(out, 'path.arrow'), 'table');
    const summary = readArtifact(join(out, 'instability.arrow'), 'table');
    expect(path).toEqual(r.path);
    expect(summary).toEqual(r.instability);
    expect(path.meta.columns.map((c) => c.name)).toEqual(['label', 'k', 'alpha', 'split', 'loss', 'error']);
    expect(path.rows).toHaveLength(5 * 2);
    expect(new Set(path.rows.map((row) => row['k']))).toEqual(new Set([4]));
    expect(path.rows.filter((row) => row['split'] === 'test').map((row) => row['alpha'])).toEqual([0, 0.25, 0.5, 0.75, 1]);
    for (const split of ['test', 'train']) {
      const rows = path.rows.filter((row) => row['split'] === split);
      const errors = rows.map((row) => row['error'] as number);
      const expected = Math.max(...errors) - ((errors[0] as number) + (errors[4] as number)) / 2;
      const row = summary.rows.find((s) => s['split'] === split);
      expect(row).toMatchObject({ label: 'dense <k>', k: 4, pm: 1, iterations: 8, errorA: errors[0], errorB: errors[4] });
      expect(row?.['instability']).toBeCloseTo(expected, 12);
      expect((path.meta.info?.['instability'] as Record<string, number>)[split]).toBeCloseTo(expected, 12);
      for (const e of errors) expect(e * 40).toBeCloseTo(Math.round(e * 40), 6); // 40 examples per split
    }
    expect(path.meta.info).toMatchObject({ label: 'dense <k>', k: 4, seeds: [seedA, seedB], points: 5, batchNorm: 'none (the model has no batch norm)' });
  });

  it('analyses a masked ticket: k from the rewound weights, Pm from the mask', async () => {
    const mask = halfMask(init);
    const rewound: WeightBundle = { meta: { content: 'rewound', model: init.meta.model, iteration: 0 }, tensors: init.tensors };
    const r = await instability({ weights: rewound, data, mask }, { train: copyTrain, points: 3, examples: 20 });
    expect(r.k).toBe(0);
    expect(r.copyA.meta.startIteration).toBeUndefined();
    expect(r.summary.rows[0]?.['pm']).toBeCloseTo(0.5, 2);
  });

  it('refuses inputs and configs that cannot give an instability, naming the problem', async () => {
    const run = (weights: WeightBundle, cfg: Record<string, unknown> = {}) =>
      instability({ weights, data }, { train: copyTrain, points: 2, examples: 10, ...cfg });
    await expect(run(checkpoints)).rejects.toThrow("'weights' is a bundle of several checkpoints; set config.iteration to k");
    await expect(run(checkpoints, { iteration: 3 })).rejects.toThrow('config.iteration: no checkpoint at iteration 3 (saved: 0, 4)');
    await expect(run(init, { iteration: 4 })).rejects.toThrow("config.iteration is 4 but analysis/instability: 'weights' are at iteration 0 (init)");
    await expect(run({ ...init, meta: { ...init.meta, content: 'trained' } })).rejects.toThrow(/holds trained \(final\) weights/);
    await expect(run(checkpoints, { iteration: 4, train: { ...copyTrain, iterations: 2 } })).rejects.toThrow(
      /start at iteration 4 .* after its end at iteration 2/,
    );
    await expect(run(checkpoints, { iteration: 4, train: { ...copyTrain, iterations: 4 } })).rejects.toThrow('the copies would start at their end (k = T = 4)');
    const cfg = (c: Record<string, unknown>) => InstabilityConfig.safeParse({ train: copyTrain, ...c });
    expect(cfg({ seeds: [5, 5] }).error?.issues[0]?.message).toMatch(/different seeds/);
    expect(cfg({ train: { ...copyTrain, seed: 1 } }).success).toBe(false);
    expect(cfg({ splits: ['test', 'test'] }).error?.issues[0]?.message).toMatch(/listed twice/);
    expect(cfg({ points: 1 }).success).toBe(false);
  });

  it('recomputes batch-norm statistics along the path of a network with batch norm', async () => {
    const cifar = syntheticDataset({ seed: 4, shape: [32, 32, 3], classes: 10, train: 32, validation: 4, test: 8 });
    const w0 = initWeights({ arch: 'resnet18', options: { width: 2 } }, 1);
    const r = await instability(
      { weights: w0, data: cifar },
      {
        train: { iterations: 2, batchSize: 8, optimizer: { type: 'sgd', lr: 0.1, momentum: 0.9 }, evalEvery: 2, trainEvalExamples: 0 },
        points: 3,
        batchNorm: { examples: 16 },
      },
    );
    expect(r.path.meta.info?.['batchNorm']).toBe('running statistics recomputed at every point on 16 training examples');
    expect(r.path.rows.every((row) => Number.isFinite(row['loss']))).toBe(true);
  });
});
