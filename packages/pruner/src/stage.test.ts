import { mkdtempSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { plainContext, readArtifact, writeArtifact, type MaskBundle } from '@lth/artifacts';
import * as pruner from './index';
import { magnitudeStage, randomStage, stages } from './index';
import { randomWeights } from './__tests__/testing';

let dir: string;
beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'pruner-'))));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const w = randomWeights(
  [
    ['fc1.weight', 'fc', [20, 10]],
    ['fc1.bias', 'bias', [10]],
    ['out.weight', 'output', [10, 5]],
  ],
  2,
);

describe('pruner stages', () => {
  it('are registered and the plain functions are exported', () => {
    expect(stages.map((s) => s.id)).toEqual(['pruner/magnitude', 'pruner/random']);
    for (const f of ['magnitudePrune', 'randomPrune', 'randomMaskLike'] as const) expect(typeof pruner[f]).toBe('function');
  });

  it('pruner/magnitude runs as a plain function over two rounds and writes valid artifacts', async () => {
    const logs: string[] = [];
    const ctx = plainContext(dir, { log: (m) => logs.push(m) });
    const cfg = magnitudeStage.config.parse({ scope: 'layerwise', rate: { fc: 0.2, output: 0.1 } });
    const r1 = await magnitudeStage.run(ctx, cfg, { weights: w, mask: undefined });
    const r2 = await magnitudeStage.run(ctx, cfg, { weights: w, mask: r1.mask });
    expect(r2.sparsity.layers.map((l) => l.remaining)).toEqual([128, 40]);
    expect(logs[1]).toBe('pruner/magnitude: round 2, 168/250 weights kept (67.20%)');
    await writeArtifact(join(dir, 'mask.arrow'), 'tensors', r2.mask);
    await writeArtifact(join(dir, 'sparsity.arrow'), 'sparsity', r2.sparsity);
    const mask = readArtifact(join(dir, 'mask.arrow'), 'tensors');
    expect(mask.meta).toMatchObject({ content: 'mask', info: { round: 2, rule: 'magnitude', scope: 'layerwise', rate: { fc: 0.2, output: 0.1 } } });
    expect(mask.tensors[0]?.values).toEqual(r2.mask.tensors[0]?.values);
    const sp = readArtifact(join(dir, 'sparsity.arrow'), 'sparsity');
    expect(sp.meta).toMatchObject({ total: 250, remaining: 168, fraction: 168 / 250 });
    expect(sp.layers.map((l) => [l.layer, l.total, l.remaining])).toEqual([
      ['fc1.weight', 200, 128],
      ['out.weight', 50, 40],
    ]);
    // a mask read back from disk feeds the next round
    const r3 = await magnitudeStage.run(ctx, cfg, { weights: w, mask: mask as MaskBundle });
    expect(r3.sparsity.layers.map((l) => l.remaining)).toEqual([102, 36]);
  });

  it('pruner/random runs in both modes and says what input it lacks', async () => {
    const ctx = plainContext(dir, { log: () => {} });
    const ref = (await magnitudeStage.run(ctx, magnitudeStage.config.parse({ scope: 'layerwise', rate: { fc: 0.5 } }), { weights: w, mask: undefined })).mask;
    const like = await randomStage.run(ctx, randomStage.config.parse({ seed: 1 }), { mask: ref, weights: undefined });
    expect(like.sparsity.layers.map((l) => l.remaining)).toEqual([100, 50]);
    const byRate = await randomStage.run(ctx, randomStage.config.parse({ seed: 1, prune: { scope: 'global', roles: ['fc', 'output'], rate: 0.2 } }), {
      mask: undefined,
      weights: w,
    });
    expect(byRate.sparsity.meta.remaining).toBe(200);
    await expect(randomStage.run(ctx, randomStage.config.parse({ seed: 1 }), { mask: undefined, weights: w })).rejects.toThrow(
      "pruner/random: without 'prune' in the config the input 'mask' (the reference mask to match) is required",
    );
    await expect(randomStage.run(ctx, randomStage.config.parse({ seed: 1 }), { mask: w, weights: undefined })).rejects.toThrow(
      "pruner/random: 'mask' holds 'trained' tensors, not a mask",
    );
  });
});

describe('speed', () => {
  it('prunes 4M weights globally in well under a second per million', () => {
    const big = randomWeights(
      [
        ['c1.weight', 'conv', [3, 3, 256, 512]],
        ['c2.weight', 'conv', [3, 3, 512, 512]],
        ['out.weight', 'output', [512, 10]],
      ],
      3,
    );
    const t0 = performance.now();
    const r = pruner.magnitudePrune(big, { scope: 'global', roles: ['conv'], rate: 0.2 });
    const ms = performance.now() - t0;
    const convs = 9 * 256 * 512 + 9 * 512 * 512;
    expect(r.sparsity.meta.remaining).toBe(convs - Math.round(0.2 * convs) + 5120);
    expect(ms).toBeLessThan(4000);
  });
});
