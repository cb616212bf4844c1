import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  checkpointIterations,
  isPrunable,
  plainContext,
  readArtifact,
  selectCheckpoint,
  writeArtifact,
  type MaskBundle,
  type Progress,
  type WeightBundle,
} from '@lth/artifacts';
import { createRng, initBackend, tf } from '@lth/compute';
import { syntheticDataset } from '@lth/data';
import { createModel, initWeights } from '@lth/models';
import { TrainConfig, parseTrainConfig } from './config';
import { trainStage, stages } from './stage';
import { train, trainModel } from './train';

// The root Jest config runs packages as projects, where a project's testTimeout is ignored.
jest.setTimeout(60000);

beforeAll(async () => {
  await initBackend();
});

const LENET = { arch: 'lenet_300_100', options: {} };
const data = syntheticDataset({ seed: 3, shape: [28, 28, 1], train: 240, validation: 60, test: 60, noise: 60 });
const w0 = initWeights(LENET, 7);

/** Prunes a random half of every prunable tensor. */
function randomMask(bundle: WeightBundle, seed: number): MaskBundle {
  const rng = createRng('test', seed);
  return {
    meta: { content: 'mask', model: bundle.meta.model },
    tensors: bundle.tensors
      .filter((t) => isPrunable(t.role))
      .map((t) => ({ name: t.name, role: t.role, shape: t.shape, values: Uint8Array.from(t.values, () => (rng.next() < 0.5 ? 1 : 0)) })),
  };
}

const bytes = (v: Float32Array) => Buffer.from(v.buffer, v.byteOffset, v.byteLength);
const sameBytes = (a: Float32Array, b: Float32Array) => bytes(a).equals(bytes(b));

function prunedNonZero(weights: WeightBundle, mask: MaskBundle): number {
  let bad = 0;
  for (const m of mask.tensors) {
    const w = weights.tensors.find((t) => t.name === m.name)!;
    for (let i = 0; i < m.values.length; i++) if (m.values[i] === 0 && !Object.is(w.values[i], 0)) bad++;
  }
  return bad;
}

const small = { iterations: 12, batchSize: 20, evalEvery: 4, evalBatchSize: 64, trainEvalExamples: 60 };

describe('train (plain function)', () => {
  it('improves accuracy on the synthetic dataset and records the early-stopping point', async () => {
    const progress: number[] = [];
    const r = await train({ weights: w0, data }, { ...small, iterations: 40, evalEvery: 10 }, { progress: (p) => progress.push(p.done), progressEveryMs: 0 });
    const test = r.metrics.rows.filter((x) => x.split === 'test');
    expect(test.map((x) => x.iteration)).toEqual([0, 10, 20, 30, 40]);
    expect(r.metrics.rows.filter((x) => x.split === 'train').length).toBe(5);
    expect(test[0]!.accuracy).toBeLessThan(0.4);
    expect(test[test.length - 1]!.accuracy).toBeGreaterThan(0.8);
    const es = r.metrics.meta.earlyStop!;
    const val = r.metrics.rows.filter((x) => x.split === 'validation');
    const minLoss = Math.min(...val.map((x) => x.loss));
    expect(es.validationLoss).toBe(minLoss);
    expect(es.testAccuracy).toBe(test.find((x) => x.iteration === es.iteration)!.accuracy);
    expect(r.metrics.meta.iterations).toBe(40);
    expect(r.metrics.meta.remaining).toBe(1);
    expect(r.weights.meta).toMatchObject({ content: 'trained', iteration: 40, model: { arch: 'lenet_300_100' } });
    expect(progress[progress.length - 1]).toBe(40);
    expect(checkpointIterations(r.checkpoints)).toEqual([]);
  });

  it('reports every evaluation as intermediate values through progress', async () => {
    const seen: Progress[] = [];
    const r = await train({ weights: w0, data }, { ...small, iterations: 8, evalEvery: 4 }, { progress: (p) => seen.push(p), progressEveryMs: 60_000 });
    const evals = seen.filter((p) => p.values);
    expect(evals.map((p) => p.iteration)).toEqual([0, 4, 8]);
    for (const p of evals) {
      const rows = r.metrics.rows.filter((x) => x.iteration === p.iteration);
      expect(Object.keys(p.values ?? {}).sort()).toEqual([
        'test.accuracy',
        'test.loss',
        'train.accuracy',
        'train.loss',
        'validation.accuracy',
        'validation.loss',
      ]);
      for (const row of rows) expect(p.values?.[`${row.split}.accuracy`]).toBe(row.accuracy);
      expect(p.done).toBe(p.iteration);
    }
  });

  it('is deterministic: same seed, same backend, identical final weights; another seed differs', async () => {
    const cfg = { ...small, iterations: 6, evalEvery: 100, augment: false };
    const a = await train({ weights: w0, data }, { ...cfg, seed: 4 });
    const b = await train({ weights: w0, data }, { ...cfg, seed: 4 });
    const c = await train({ weights: w0, data }, { ...cfg, seed: 5 });
    a.weights.tensors.forEach((t, i) => expect(sameBytes(t.values, b.weights.tensors[i]!.values)).toBe(true));
    expect(sameBytes(a.weights.tensors[0]!.values, c.weights.tensors[0]!.values)).toBe(false);
  });

  it('writes byte-identical metrics for identical runs (no wall-clock field in the artifact; #14 defect 7)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lth-trainer-'));
    const cfg = { ...small, iterations: 4, evalEvery: 2, augment: false, seed: 4 };
    const files = [];
    for (const run of ['a', 'b']) {
      const r = await train({ weights: w0, data }, cfg);
      expect(r.timing.durationMs).toBeGreaterThanOrEqual(0);
      await writeArtifact(join(dir, `${run}.arrow`), 'metrics', r.metrics);
      files.push(readFileSync(join(dir, `${run}.arrow`)));
    }
    expect(Buffer.compare(files[0]!, files[1]!)).toBe(0);
    expect(Object.keys(readArtifact(join(dir, 'a.arrow'), 'metrics').meta)).not.toEqual(expect.arrayContaining(['durationMs']));
    rmSync(dir, { recursive: true, force: true });
  });

  it('saves checkpoints: 0 is the (masked) start, the last equals the final weights', async () => {
    const mask = randomMask(w0, 2);
    const r = await train({ weights: w0, data, mask }, { ...small, iterations: 8, checkpoints: [8, 0, 3] });
    expect(checkpointIterations(r.checkpoints)).toEqual([0, 3, 8]);
    const c0 = selectCheckpoint(r.checkpoints, 0);
    for (const t of c0.tensors) {
      const m = mask.tensors.find((x) => x.name === t.name);
      const orig = w0.tensors.find((x) => x.name === t.name)!;
      // Bit-identical: kept weights unchanged, pruned ones +0 (not -0).
      const want = Float32Array.from(orig.values, (v, i) => (m && m.values[i] === 0 ? 0 : v));
      expect(Buffer.from(t.values.buffer, t.values.byteOffset, t.values.byteLength).equals(Buffer.from(want.buffer))).toBe(true);
    }
    const c8 = selectCheckpoint(r.checkpoints, 8);
    c8.tensors.forEach((t, i) => expect(sameBytes(t.values, r.weights.tensors[i]!.values)).toBe(true));
    expect(sameBytes(selectCheckpoint(r.checkpoints, 3).tensors[0]!.values, c0.tensors[0]!.values)).toBe(false);
    expect(r.metrics.meta.remaining).toBeCloseTo(0.5, 2);
    // Where the time went: every phase happened here, and together they fit in the run.
    const { stepsMs, batchesMs, evaluationMs, checkpointsMs } = r.timing.phases;
    for (const ms of [stepsMs, batchesMs, evaluationMs, checkpointsMs]) expect(ms).toBeGreaterThan(0);
    expect(stepsMs + batchesMs + evaluationMs + checkpointsMs).toBeLessThanOrEqual(r.timing.durationMs + 1);
    expect(r.timing.msPerStep).toBeCloseTo((stepsMs + batchesMs) / 8, 6);
  });

  it('converts epochs to iterations (dropLast batches)', async () => {
    const r = await train({ weights: w0, data }, { epochs: 0.5, batchSize: 40, evalEvery: '1ep', trainEvalExamples: 0 });
    expect(r.metrics.meta.iterations).toBe(3);
    expect([...new Set(r.metrics.rows.map((x) => x.iteration))]).toEqual([0, 3]);
  });

  it('rejects a mask that does not fit, naming the tensor', async () => {
    const mask = randomMask(w0, 1);
    mask.tensors[0]!.shape = [1, 2];
    await expect(train({ weights: w0, data, mask }, small)).rejects.toThrow(/mask'.*tensor 'fc1.weight' has shape \[1,2\]/);
    await expect(train({ weights: mask as unknown as WeightBundle, data }, small)).rejects.toThrow(/'weights' input is a mask/);
  });
});

describe('masks', () => {
  for (const optimizer of [
    { type: 'adam' as const, lr: 0.01 },
    { type: 'sgd' as const, lr: 0.1, momentum: 0.9, nesterov: true },
  ]) {
    it(`keeps every pruned weight exactly 0 after every ${optimizer.type} step with weight decay`, async () => {
      const mask = randomMask(w0, 9);
      const model = createModel(w0);
      let bad = 0;
      const cfg = parseTrainConfig({ ...small, iterations: 6, optimizer, weightDecay: 0.05 });
      const r = await trainModel(model, data, cfg, {
        mask,
        onStep: () => {
          bad += prunedNonZero(model.toBundle('trained'), mask);
        },
      });
      expect(bad).toBe(0);
      expect(prunedNonZero(r.weights, mask)).toBe(0);
      // and the kept weights did train
      const t = r.weights.tensors[0]!;
      expect(Array.from(t.values).some((v, i) => v !== w0.tensors[0]!.values[i] && mask.tensors[0]!.values[i] === 1)).toBe(true);
      model.dispose();
    });
  }
});

describe('memory and abort', () => {
  it('keeps tf.memory().numTensors flat between iteration 5 and iteration 50', async () => {
    const model = createModel(w0);
    const counts = new Map<number, number>();
    const cfg = parseTrainConfig({ ...small, iterations: 50, evalEvery: 10, checkpoints: [20], weightDecay: 1e-4 });
    await trainModel(model, data, cfg, { mask: randomMask(w0, 3), onStep: (it) => counts.set(it, tf.memory().numTensors) });
    expect(counts.get(5)).toBeDefined();
    expect(counts.get(50)).toBe(counts.get(5));
    expect(counts.get(20)).toBe(counts.get(5));
    model.dispose();
  });

  it('throws an AbortError promptly when the signal fires, disposing everything it made', async () => {
    const model = createModel(w0);
    const before = tf.memory().numTensors;
    const ac = new AbortController();
    let last = 0;
    const cfg = parseTrainConfig({ ...small, iterations: 100000, evalEvery: 1000 });
    // Fired from inside step 3, not by a timer, so the test does not depend on machine speed:
    // "promptly" means the loop stops before the next step.
    const onStep = (it: number) => {
      last = it;
      if (it === 3) ac.abort();
    };
    await expect(trainModel(model, data, cfg, { mask: randomMask(w0, 4), signal: ac.signal, onStep })).rejects.toMatchObject({
      name: 'AbortError',
    });
    expect(last).toBe(3);
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });

  it('aborts during a long evaluation too, without leaking its batches', async () => {
    const bigTest = syntheticDataset({ seed: 3, shape: [28, 28, 1], train: 60, validation: 10, test: 2000 });
    const model = createModel(w0);
    const before = tf.memory().numTensors;
    const ac = new AbortController();
    const cfg = parseTrainConfig({ iterations: 10, batchSize: 20, evalBatchSize: 1, trainEvalExamples: 0 });
    // 2,000 one-image batches outlast the 100 ms on any machine; no upper bound on wall time is
    // asserted (a loaded CI machine can be arbitrarily slow): the abort lands inside evaluation 0.
    setTimeout(() => ac.abort(), 100);
    await expect(trainModel(model, bigTest, cfg, { signal: ac.signal })).rejects.toThrow(/aborted at iteration 0/);
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });

  it('does not start when already aborted', async () => {
    const ac = new AbortController();
    ac.abort();
    await expect(train({ weights: w0, data }, small, { signal: ac.signal })).rejects.toThrow(/aborted at iteration 0/);
  });
});

describe('trainer/train stage', () => {
  it('runs through the stage contract and its outputs round-trip as artifacts', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lth-trainer-'));
    try {
      expect(stages.map((s) => s.id)).toEqual(['trainer/train']);
      const cfg = TrainConfig.parse({ ...small, iterations: 10, checkpoints: [0, 5], optimizer: { type: 'sgd', lr: 0.05, momentum: 0.9 } });
      const mask = randomMask(w0, 5);
      const seen: number[] = [];
      const phases: Record<string, number>[] = [];
      const ctx = plainContext(dir, { progress: (p) => seen.push(p.done), recordPhases: (ms) => phases.push(ms) });
      const out = await trainStage.run(ctx, cfg, { weights: w0, data, mask });
      expect(seen).toContain(10);
      // The phases reach the run record through the context (wall-clock: not in the metrics).
      expect(phases).toHaveLength(1);
      expect(Object.keys(phases[0]!).sort()).toEqual(['batchesMs', 'checkpointsMs', 'evaluationMs', 'stepsMs']);
      await writeArtifact(join(dir, 'w.arrow'), 'tensors', out.weights);
      await writeArtifact(join(dir, 'm.arrow'), 'metrics', out.metrics);
      await writeArtifact(join(dir, 'c.arrow'), 'tensors', out.checkpoints);
      const metrics = readArtifact(join(dir, 'm.arrow'), 'metrics');
      expect(metrics.meta.earlyStop?.iteration).toBeDefined();
      expect(metrics.meta.backend).toBe(tf.getBackend());
      expect(checkpointIterations(readArtifact(join(dir, 'c.arrow'), 'tensors') as WeightBundle)).toEqual([0, 5]);
      expect(prunedNonZero(readArtifact(join(dir, 'w.arrow'), 'tensors') as WeightBundle, mask)).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
