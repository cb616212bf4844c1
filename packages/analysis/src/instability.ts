import {
  selectCheckpoint,
  splitView,
  type Dataset,
  type Metrics,
  type Progress,
  type TableArtifact,
  type TensorBundle,
  type WeightBundle,
} from '@lth/artifacts';
import { createRng, ensureBackend } from '@lth/compute';
import { createModel } from '@lth/models';
import { parseTrainConfig, resolvePlan, train, type TrainResult } from '@lth/trainer';
import { InstabilityConfig, seedsOf, type InstabilityConfigInput } from './config';
import { alphaGrid, evaluatePath, instabilityOf, type Endpoint, type SplitInstability } from './path';
import { pathTable, summaryTable } from './tables';

export interface InstabilityInputs {
  /** Weights at iteration k: one checkpoint (or a checkpoint bundle + config.iteration), a rewound ticket, or an init. */
  weights: TensorBundle;
  data: Dataset;
  /** Optional mask (uint8, 1 = kept): the copies train masked and the path is masked. */
  mask?: TensorBundle | undefined;
}

export interface InstabilityResult {
  /** One row per (alpha, split): k, alpha, split, loss, error. */
  path: TableArtifact;
  /** One row per split: the instability and the numbers it is made of. */
  summary: TableArtifact;
  copyA: Metrics;
  copyB: Metrics;
  k: number;
  iterations: number;
  seeds: [number, number];
  splits: SplitInstability[];
}

export interface InstabilityOptions {
  log?: (message: string) => void;
  progress?: (p: Progress) => void;
  signal?: AbortSignal;
}

/**
 * The weights the copies start from and their iteration k (the trainer's rule: k for a
 * checkpoint or rewound bundle, 0 for an init or reinit), or an error saying what to give.
 */
export function startingPoint(b: TensorBundle, iteration: number | undefined): { weights: WeightBundle; k: number } {
  const where = "analysis/instability: 'weights'";
  const c = b.meta.content;
  if (c === 'mask') throw new Error(`${where} is a mask; pass it as 'mask'`);
  if (c === 'trained') {
    throw new Error(
      `${where} holds trained (final) weights; the copies start from weights at k: a checkpoint (a trainer's 'checkpoints' with config.iteration = k), a rewound ticket, or an init`,
    );
  }
  const bad = b.tensors.find((t) => !(t.values instanceof Float32Array));
  if (bad) throw new Error(`${where}: tensor '${bad.name}' is not float32`);
  const w = b as WeightBundle;
  if (c === 'checkpoint' && w.meta.iteration === undefined) {
    if (iteration === undefined) throw new Error(`${where} is a bundle of several checkpoints; set config.iteration to k, the one to start from`);
    try {
      return { weights: selectCheckpoint(w, iteration), k: iteration };
    } catch (e) {
      throw new Error(`analysis/instability: config.iteration: ${(e as Error).message}`, { cause: e });
    }
  }
  const k = c === 'checkpoint' || c === 'rewound' ? (w.meta.iteration ?? 0) : 0;
  if (iteration !== undefined && iteration !== k)
    throw new Error(`analysis/instability: config.iteration is ${iteration} but ${where} are at iteration ${k} (${c})`);
  return { weights: w, k };
}

function tensorsOf(b: WeightBundle): Endpoint {
  return new Map(b.tensors.map((t) => [t.name, t.values]));
}

function maskOf(mask: TensorBundle | undefined, arch: string): Map<string, Float32Array> | undefined {
  if (!mask) return undefined;
  if (mask.meta.content !== 'mask') throw new Error(`analysis/instability: 'mask' holds '${mask.meta.content}' tensors, not a mask`);
  if (mask.meta.model.arch !== arch) throw new Error(`analysis/instability: the mask is for '${mask.meta.model.arch}', the weights for '${arch}'`);
  return new Map(mask.tensors.map((t) => [t.name, Float32Array.from(t.values)]));
}

/**
 * Linear mode connectivity (Frankle et al., ICML 2020) as a plain function: trains two copies
 * of the weights at k to T with different data orders (the trainer's `seed`: SGD noise), then
 * evaluates loss and error at `points` evenly spaced alpha on the linear path between them,
 * masked, with batch-norm statistics recomputed at every point (see BatchNormConfig). The
 * instability is the maximum error on the path minus the mean of the endpoints' errors.
 */
export async function instability(
  inputs: InstabilityInputs,
  config: InstabilityConfigInput | InstabilityConfig,
  opts: InstabilityOptions = {},
): Promise<InstabilityResult> {
  const cfg = InstabilityConfig.parse(config);
  const log = opts.log ?? (() => {});
  await ensureBackend();
  const { weights, k } = startingPoint(inputs.weights, cfg.iteration);
  const mask = maskOf(inputs.mask, weights.meta.model.arch);
  const seeds = seedsOf(cfg);
  // Resolve T (and catch k > T) before anything trains.
  const plan = resolvePlan(parseTrainConfig({ ...cfg.train, seed: seeds[0] }, 'analysis/instability config.train'), splitView(inputs.data, 'train').count, k);
  const steps = plan.iterations - plan.start;
  if (steps === 0)
    throw new Error(
      `analysis/instability: the copies would start at their end (k = T = ${k}): with nothing to train they are the same network, and the instability is 0 by construction`,
    );
  const alphas = alphaGrid(cfg.points);
  const total = 2 * steps + alphas.length;
  const report = (done: number, message: string) => opts.progress?.({ done, total, message });

  const copies: TrainResult[] = [];
  for (const [i, seed] of seeds.entries()) {
    const which = i === 0 ? 'A' : 'B';
    log(`analysis/instability: training copy ${which} (data-order seed ${seed}) from iteration ${k} to ${plan.iterations}`);
    copies.push(
      await train(
        { weights, data: inputs.data, mask: inputs.mask },
        { ...cfg.train, seed },
        {
          log,
          ...(opts.signal ? { signal: opts.signal } : {}),
          progress: (p) => report(i * steps + Math.max(0, p.done - k), `copy ${which}: ${p.message ?? ''}`),
        },
      ),
    );
  }
  const [a, b] = copies as [TrainResult, TrainResult];
  const model = createModel(a.weights);
  const hasBn = model.buffers.size > 0;
  let points;
  try {
    points = await evaluatePath(model, tensorsOf(a.weights), tensorsOf(b.weights), inputs.data, {
      alphas,
      splits: cfg.splits,
      examples: cfg.examples ?? undefined,
      evalBatchSize: cfg.evalBatchSize,
      mask,
      batchNorm: {
        mode: cfg.batchNorm.mode,
        examples: cfg.batchNorm.examples,
        batchSize: cfg.batchNorm.batchSize ?? cfg.train.batchSize,
        rng: createRng('dropout', seeds[0], 'batch-norm recompute'),
      },
      signal: opts.signal,
      onPoint: (alpha, index) => report(2 * steps + index + 1, `path: alpha ${alpha.toFixed(3)}`),
    });
  } finally {
    model.dispose();
  }
  const splits = instabilityOf(points);
  const batchNorm = !hasBn
    ? 'none (the model has no batch norm)'
    : cfg.batchNorm.mode === 'recompute'
      ? `running statistics recomputed at every point on ${cfg.batchNorm.examples} training examples`
      : 'running statistics interpolated';
  const remaining = a.metrics.meta.remaining ?? null;
  const context = { label: cfg.label, k, iterations: plan.iterations, remaining, seeds, points: alphas.length, batchNorm };
  for (const s of splits)
    log(
      `analysis/instability: ${cfg.label} at k = ${k}: ${s.split} instability ${s.instability.toFixed(4)} (endpoints ${s.errorA.toFixed(4)}, ${s.errorB.toFixed(4)}; max ${s.maxError.toFixed(4)} at alpha ${s.maxAlpha.toFixed(3)})`,
    );
  return {
    path: pathTable(points, splits, context),
    summary: summaryTable(splits, context, a.metrics, b.metrics),
    copyA: a.metrics,
    copyB: b.metrics,
    k,
    iterations: plan.iterations,
    seeds,
    splits,
  };
}
