import { mkdtempSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { isPrunable, packCheckpoints, plainContext, readArtifact, writeArtifact, type MaskBundle, type WeightBundle } from '@lth/artifacts';
import { createRng } from '@lth/compute';
import { initWeights, reinitWeights } from '@lth/models';
import { applyMask, randomReinit, reinitStage, resetStage, resetWeights, stages } from './index';

const model = { arch: 'toy', options: {} };
function weights(content: 'init' | 'checkpoint' | 'trained', fc: number[], bias = [5, 6]): WeightBundle {
  return {
    meta: { content, model, ...(content === 'init' ? { seed: 3 } : {}) },
    tensors: [
      { name: 'fc.weight', role: 'fc', shape: [2, 2], values: Float32Array.from(fc) },
      { name: 'fc.bias', role: 'bias', shape: [2], values: Float32Array.from(bias) },
      { name: 'bn.mean', role: 'buffer', shape: [1], values: Float32Array.from([0.5]) },
    ],
  };
}
const mask: MaskBundle = {
  meta: { content: 'mask', model, info: { round: 2, rule: 'magnitude' } },
  tensors: [{ name: 'fc.weight', role: 'fc', shape: [2, 2], values: Uint8Array.from([1, 0, 0, 1]) }],
};

describe('resetWeights', () => {
  it('resets survivors to w0, zeroes the pruned weights exactly, copies the rest', () => {
    const w0 = weights('init', [1, -2, 3, 4]);
    const r = resetWeights(w0, mask);
    expect(r.meta).toMatchObject({ content: 'rewound', iteration: 0, seed: 3, model, info: { from: 'init', round: 2 } });
    expect(Array.from(r.tensors[0]?.values ?? [])).toEqual([1, 0, 0, 4]);
    expect(Object.is(r.tensors[0]?.values[1], 0)).toBe(true); // +0, not -2 * 0 = -0
    expect(Array.from(r.tensors[1]?.values ?? [])).toEqual([5, 6]);
    expect(Array.from(r.tensors[2]?.values ?? [])).toEqual([0.5]);
    // inputs untouched, outputs are copies
    expect(Array.from(w0.tensors[0]?.values ?? [])).toEqual([1, -2, 3, 4]);
    expect(r.tensors[1]?.values).not.toBe(w0.tensors[1]?.values);
  });

  const ckpts = packCheckpoints(model, [
    { iteration: 500, bundle: weights('checkpoint', [10, 20, 30, 40], [7, 8]) },
    { iteration: 0, bundle: weights('checkpoint', [1, 2, 3, 4]) },
  ]);

  it('rewinds to w_k from a checkpoint bundle', () => {
    const r = resetWeights(ckpts, mask, { iteration: 500 });
    expect(r.meta).toMatchObject({ content: 'rewound', iteration: 500, info: { from: 'checkpoint' } });
    expect(r.tensors.map((t) => Array.from(t.values))).toEqual([[10, 0, 0, 40], [7, 8], [0.5]]);
    expect(r.tensors.map((t) => t.name)).toEqual(['fc.weight', 'fc.bias', 'bn.mean']);
    expect(resetWeights(ckpts, mask, { iteration: 0 }).tensors[0]?.values).toEqual(Float32Array.from([1, 0, 0, 4]));
  });

  it('says what is wrong with the source or the iteration', () => {
    expect(() => resetWeights(ckpts, mask)).toThrow("rewinder/reset: 'weights' is a checkpoint bundle (iterations 0, 500); set config.iteration");
    expect(() => resetWeights(ckpts, mask, { iteration: 100 })).toThrow('rewinder/reset: config.iteration: no checkpoint at iteration 100 (saved: 0, 500)');
    expect(() => resetWeights(weights('init', [1, 2, 3, 4]), mask, { iteration: 500 })).toThrow("'weights' is an init bundle (w0); rewinding to w_500 needs the trainer's checkpoint bundle");
    expect(() => resetWeights(weights('trained', [1, 2, 3, 4]), mask)).toThrow("'weights' holds 'trained' weights");
  });

  it('says which mask tensor does not fit', () => {
    const w0 = weights('init', [1, 2, 3, 4]);
    const t = mask.tensors[0] as MaskBundle['tensors'][number];
    expect(() => resetWeights(w0, { ...mask, tensors: [{ ...t, shape: [4, 1] }] })).toThrow("mask tensor 'fc.weight' has shape [4,1], weights have [2,2]");
    expect(() => resetWeights(w0, { ...mask, tensors: [] })).toThrow("mask has no tensor 'fc.weight' (role fc)");
    expect(() => resetWeights(w0, { ...mask, tensors: [t, { ...t, name: 'other' }] })).toThrow("mask tensor 'other' is not a prunable tensor");
    expect(() => resetWeights(w0, { ...mask, tensors: [{ ...t, values: Uint8Array.from([1, 2, 0, 1]) }] })).toThrow("mask tensor 'fc.weight' has value 2 at flat index 1");
    expect(() => resetWeights(w0, { ...mask, meta: { ...mask.meta, model: { arch: 'lenet_300_100', options: {} } } })).toThrow("mask is for model 'lenet_300_100', weights are for 'toy'");
    expect(() => applyMask(w0, { ...mask, meta: { ...mask.meta, content: 'init' } } as MaskBundle, 'here')).toThrow("here: 'mask' holds 'init' tensors, not a mask");
  });
});

/** A random mask over the prunable tensors of a real model (the rewinder cannot import the pruner). */
function randomMask(w: WeightBundle, keep: number, seed: number): MaskBundle {
  const rng = createRng('test', seed);
  return {
    meta: { content: 'mask', model: w.meta.model, info: { round: 1 } },
    tensors: w.tensors.filter((t) => isPrunable(t.role)).map((t) => ({ ...t, values: Uint8Array.from(t.values, () => (rng.next() < keep ? 1 : 0)) })),
  };
}

describe('randomReinit', () => {
  const ref = { arch: 'lenet_300_100', options: {} };
  const w0 = initWeights(ref, 0);
  const m = randomMask(w0, 0.3, 1);

  it("is a fresh Glorot draw from the reinit stream of (seed, mask round) under the same mask, unlike w0", () => {
    const r = randomReinit(m, 7);
    expect(r.meta).toMatchObject({ content: 'reinit', model: ref, seed: 7, iteration: 0, info: { round: 1 } });
    const fresh = reinitWeights(ref, 7, 1);
    for (const [i, t] of r.tensors.entries()) {
      const f = fresh.tensors[i]?.values as Float32Array;
      const mt = m.tensors.find((x) => x.name === t.name);
      if (!mt) {
        expect(t.values).toEqual(f); // biases: copied from the draw
        continue;
      }
      let survivorsSame = 0;
      let differFromW0 = 0;
      let prunedNotZero = 0;
      const w0v = w0.tensors[i]?.values as Float32Array;
      t.values.forEach((v, j) => {
        if (mt.values[j] === 0) prunedNotZero += Object.is(v, 0) ? 0 : 1;
        else {
          if (v === f[j]) survivorsSame++;
          if (v !== w0v[j]) differFromW0++;
        }
      });
      const kept = mt.values.reduce((a, b) => a + b, 0);
      expect(kept).toBeGreaterThan(0);
      expect(prunedNotZero).toBe(0);
      expect(survivorsSame).toBe(kept);
      expect(differFromW0).toBe(kept);
    }
    expect(randomReinit(m, 7).tensors[0]?.values).toEqual(r.tensors[0]?.values);
  });

  it('copies batch norm and buffers from the draw (ResNet)', () => {
    const rref = { arch: 'resnet18', options: { width: 4 } };
    const rm = randomMask(initWeights(rref, 0), 0.5, 2);
    const r = randomReinit(rm, 9);
    const fresh = initWeights(rref, 9);
    const bn = r.tensors.filter((t) => t.role === 'batchnorm' || t.role === 'buffer');
    expect(bn.length).toBeGreaterThan(0);
    for (const t of bn) expect(t.values).toEqual(fresh.tensors.find((x) => x.name === t.name)?.values);
  });

  it('names the model when it cannot initialize it', () => {
    expect(() => randomReinit({ ...m, meta: { ...m.meta, model: { arch: 'nope', options: {} } } }, 1)).toThrow("rewinder/random-reinit: cannot initialize model 'nope'");
  });
});

describe('stages', () => {
  let dir: string;
  beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'rewinder-'))));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('run as plain functions and write valid artifacts', async () => {
    expect(stages.map((s) => s.id)).toEqual(['rewinder/reset', 'rewinder/random-reinit']);
    const ctx = plainContext(dir, { log: () => {} });
    const ckpts = packCheckpoints(model, [{ iteration: 500, bundle: weights('checkpoint', [10, 20, 30, 40]) }]);
    const cfg = resetStage.config.parse({ iteration: 500 });
    const { weights: r } = await resetStage.run(ctx, cfg, { weights: ckpts, mask });
    await writeArtifact(join(dir, 'rewound.arrow'), 'tensors', r);
    const back = readArtifact(join(dir, 'rewound.arrow'), 'tensors');
    expect(back.meta).toMatchObject({ content: 'rewound', iteration: 500 });
    expect(Array.from(back.tensors[0]?.values ?? [])).toEqual([10, 0, 0, 40]);

    const ref = { arch: 'lenet_300_100', options: {} };
    const m = randomMask(initWeights(ref, 0), 0.5, 3);
    const { weights: ri } = await reinitStage.run(ctx, reinitStage.config.parse({ seed: 4 }), { mask: m });
    expect(ri.meta).toMatchObject({ content: 'reinit', seed: 4 });
    expect(() => reinitStage.config.parse({})).toThrow();
    expect(() => resetStage.config.parse({ iteration: -1 })).toThrow();
  });
});
