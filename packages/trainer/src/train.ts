import { packCheckpoints, splitView, type Dataset, type Metrics, type Progress, type TensorBundle, type WeightBundle } from '@lth/artifacts';
import { backendLabel, createRng, ensureBackend, maskedMatMulAvailable, tf } from '@lth/compute';
import { batchIterator, disposeBatch, type Batch } from '@lth/data';
import { createModel } from '@lth/models';
import { parseTrainConfig, resolvePlan, type TrainConfig, type TrainConfigInput } from './config';
import { DEFAULT_EVAL_CACHE_BYTES } from './eval-data';
import { crossEntropy, earlyStopFrom } from './evaluate';
import { Evaluator } from './evaluator';
import { maskTensors, remainingFraction } from './mask';
import { applyMask, createOptimizer } from './optimizers';
import { learningRate } from './schedule';
import { nativeChain, nativeTrainingStep, type TrainingStep } from './native-step';
import { TrainingAborted, type TrainableModel } from './types';

export interface TrainInputs {
  /** Starting weights (init, rewound, reinit, or one selected checkpoint). */
  weights: TensorBundle;
  data: Dataset;
  /** Optional mask (uint8, 1 = kept); pruned weights are 0 from the start and stay 0. */
  mask?: TensorBundle | undefined;
}

export interface TrainResult {
  /** Final weights: content 'trained', iteration = iterations. */
  weights: WeightBundle;
  metrics: Metrics;
  /** The requested checkpoints, packed (`selectCheckpoint(bundle, k)` gets w_k). */
  checkpoints: WeightBundle;
  /**
   * Wall-clock figures. Not in the metrics artifact: identical runs must write identical bytes
   * (the cache addresses artifacts by content; the engine keeps stage durations in entry.json).
   */
  timing: { durationMs: number; msPerStep: number; phases: TrainPhases };
}

/**
 * Where a training run's wall time went, in ms (performance.now() sums, one pair of reads per
 * phase and step): `stepsMs` the optimizer steps (forward, gradients, update, the occasional
 * loss read-back), `batchesMs` making and releasing batches (training batches, and evaluation
 * batches: once per run when kept, every evaluation when streamed), `evaluationMs` the rest of
 * every evaluation (forward passes, loss and accuracy), `checkpointsMs`
 * reading back checkpoint weights. The rest of durationMs is set-up and the final bundles.
 */
export interface TrainPhases {
  stepsMs: number;
  batchesMs: number;
  evaluationMs: number;
  checkpointsMs: number;
}

export interface TrainOptions {
  log?: (message: string) => void;
  progress?: (p: Progress) => void;
  signal?: AbortSignal;
  /** Called after every step once its tensors are disposed (iteration = steps taken; lr = the step's learning rate). */
  onStep?: (iteration: number, step: { lr: number }) => void;
  /** Minimum milliseconds between progress reports (and loss read-backs); default 500. */
  progressEveryMs?: number;
  /**
   * Device memory (bytes) for evaluation batches kept across a run's evaluations; splits that
   * do not fit are streamed from the dataset each time. Default 256 MiB; 0 streams all.
   * Not part of the config: it changes the speed, never the numbers.
   */
  evalCacheBytes?: number;
}

/**
 * The iteration a bundle's weights belong to, where training from them resumes: k for weights
 * rewound to w_k or one selected checkpoint, 0 for init, reinit and w0-reset bundles. Trained
 * (final) weights count as 0 too: training them again is fine-tuning, a new schedule.
 */
export function weightsIteration(b: TensorBundle): number {
  const c = b.meta.content;
  return (c === 'rewound' || c === 'checkpoint') && typeof b.meta.iteration === 'number' ? b.meta.iteration : 0;
}

/** The weights as a float32 bundle that names one model state, or an error saying what it is. */
function startingWeights(b: TensorBundle): WeightBundle {
  if (b.meta.content === 'mask') throw new Error("trainer: the 'weights' input is a mask; pass it as 'mask'");
  if (b.meta.content === 'checkpoint' && b.meta.iteration === undefined) {
    throw new Error("trainer: the 'weights' input is a bundle of several checkpoints; select one first (selectCheckpoint / rewinder)");
  }
  const bad = b.tensors.find((t) => !(t.values instanceof Float32Array));
  if (bad) throw new Error(`trainer: weight tensor '${bad.name}' is not float32`);
  return b as WeightBundle;
}

/**
 * Trains a model from a weight bundle: the plain-function form of the `trainer/train` stage.
 * Initializes the tfjs backend if nothing has (see @lth/compute).
 */
export async function train(inputs: TrainInputs, config: TrainConfigInput | TrainConfig, opts: TrainOptions = {}): Promise<TrainResult> {
  const cfg = parseTrainConfig(config);
  await ensureBackend();
  const model = createModel(startingWeights(inputs.weights));
  try {
    return await trainModel(model, inputs.data, cfg, { ...opts, mask: inputs.mask, weightsIteration: weightsIteration(inputs.weights) });
  } finally {
    model.dispose();
  }
}

/** Sparse products for the masked dense layers that `mode` selects (config `sparse`), said in the log; how many. */
function useSparse(model: TrainableModel, mask: TensorBundle | undefined, mode: TrainConfig['sparse'], log: (message: string) => void): number {
  const layers = model.useSparse?.(mask, mode) ?? [];
  if (layers.length) log(`trainer: sparse products for ${layers.map((l) => `${l.weight} (${(l.density * 100).toFixed(1)}% kept)`).join(', ')}`);
  else if (mode === 'on' && !maskedMatMulAvailable())
    log(`trainer: sparse 'on', but backend '${tf.getBackend()}' has no sparse kernels (wasm with SIMD has): dense products`);
  return layers.length;
}

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

function formatEta(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  return m < 60 ? `${m}m${String(s % 60).padStart(2, '0')}s` : `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

/**
 * The training loop on an existing model (which it does not dispose): masked optimizer steps
 * from iteration `start` to T, one tf.tidy each, evaluation at the start, at every multiple of
 * evalEvery and at T, checkpoints.
 *
 * Starting at k > 0 (weights rewound to w_k): the learning rate is the schedule's at k (warmup
 * done if k is past it, drops at the same absolute iterations), the batches are the ones an
 * uninterrupted run draws from k on (same data-order stream, the first k batches skipped), and
 * dropout draws are per iteration, so they match too. The optimizer state starts empty (Adam
 * moments and SGD momentum 0), as in open_lth: a checkpoint holds weights only, and the
 * rewinding papers reset only the weights. With plain SGD, training from w_k therefore gives
 * exactly the weights of the uninterrupted run (tested).
 */
export async function trainModel(
  model: TrainableModel,
  data: Dataset,
  cfg: TrainConfig,
  opts: TrainOptions & { mask?: TensorBundle | undefined; weightsIteration?: number } = {},
): Promise<TrainResult> {
  const started = Date.now();
  const log = opts.log ?? (() => {});
  const trainCount = splitView(data, 'train').count;
  const plan = resolvePlan(cfg, trainCount, opts.weightsIteration ?? 0);
  const steps = plan.iterations - plan.start;
  if (steps > 0 && trainCount < cfg.batchSize) {
    throw new Error(`trainer: the training split has ${trainCount} examples, fewer than batchSize ${cfg.batchSize}`);
  }
  const gamma = cfg.schedule.type === 'piecewise' ? cfg.schedule.gamma : undefined;
  const lrPlan = { milestones: plan.milestones, gamma, warmup: plan.warmup };
  const masks = opts.mask ? maskTensors(opts.mask, model, "trainer: input 'mask'") : new Map<string, tf.Tensor>();
  const optimizer = createOptimizer(cfg.optimizer, model.params, { weightDecay: cfg.weightDecay, masks });
  // tf.variableGrads keys gradients by the (global) variable name; map them back to bundle names.
  const names = [...model.params.keys()];
  const vars = names.map((n) => model.params.get(n) as tf.Variable);
  const batches =
    steps > 0 ? batchIterator(data, 'train', { batchSize: cfg.batchSize, seed: cfg.seed, augment: cfg.augment, skipBatches: plan.start }) : undefined;
  let batch: Batch | undefined;
  const saved: { iteration: number; bundle: WeightBundle }[] = [];
  const checkpointSet = new Set(plan.checkpoints);
  const signal = opts.signal;
  const progressEvery = opts.progressEveryMs ?? 500;
  const phases: TrainPhases = { stepsMs: 0, batchesMs: 0, evaluationMs: 0, checkpointsMs: 0 };
  let mark = 0;
  /** Adds the time since the previous lap to `phase`. */
  const lap = (phase: keyof TrainPhases) => {
    const now = performance.now();
    phases[phase] += now - mark;
    mark = now;
  };
  let lastReport = 0;
  let lastTick = Date.now();
  let lastLoss = Number.NaN;
  let warnedDiverged = false;

  // Between evaluation batches: abort promptly, and let timers run (evaluating a large network
  // on 10,000 images can take minutes on wasm).
  let evalIteration = plan.start;
  const evaluator = new Evaluator(model, data, cfg, {
    cacheBytes: opts.evalCacheBytes ?? DEFAULT_EVAL_CACHE_BYTES,
    pause: async () => {
      if (signal?.aborted) throw new TrainingAborted(evalIteration);
      if (Date.now() - lastTick >= 50) {
        await tick();
        lastTick = Date.now();
      }
    },
  });
  const rows = evaluator.rows;
  const finish = (iteration: number) => timedEvaluation(() => evaluator.finish(iteration));
  const checkpoint = (iteration: number) => {
    mark = performance.now();
    saved.push({ iteration, bundle: model.toBundle('checkpoint', { iteration }) });
    lap('checkpointsMs');
  };

  /** An evaluation's time, with the batches it made counted as batchesMs. */
  const timedEvaluation = async (work: () => Promise<void>) => {
    mark = performance.now();
    const made = evaluator.batchMakingMs;
    await work();
    lap('evaluationMs');
    const making = evaluator.batchMakingMs - made;
    phases.evaluationMs -= making;
    phases.batchesMs += making;
  };

  const evaluate = async (iteration: number) => {
    evalIteration = iteration;
    await timedEvaluation(() => evaluator.evaluate(iteration));
    // The evaluation as intermediate values while training runs (a sweep's pruner acts on them).
    const values: Record<string, number> = {};
    for (const row of rows) {
      if (row.iteration !== iteration) continue;
      if (Number.isFinite(row.loss)) values[`${row.split}.loss`] = row.loss;
      if (Number.isFinite(row.accuracy)) values[`${row.split}.accuracy`] = row.accuracy;
    }
    opts.progress?.({ done: iteration, total: plan.iterations, iteration, values, message: `evaluated at ${iteration}` });
  };

  try {
    let sparseLayers = 0;
    if (masks.size) {
      tf.tidy(() => {
        for (const [name, m] of masks) {
          const p = model.params.get(name) as tf.Variable;
          p.assign(applyMask(p, m));
        }
      });
      // `auto` never picks the sparse kernels for a model the native step trains: it is faster.
      const native = cfg.sparse === 'auto' && nativeChain(model) !== null;
      if (native) log("trainer: sparse 'auto' keeps dense products: the native training step is faster than the sparse kernels");
      sparseLayers = useSparse(model, opts.mask, native ? 'off' : cfg.sparse, log);
    }
    const nativeStep: TrainingStep | null = steps > 0 ? nativeTrainingStep(model, optimizer, masks, sparseLayers) : null;
    if (nativeStep) log(`trainer: native training step (${nativeChain(model)?.kind === 'conv' ? 'conv net' : 'dense chain'} on OpenBLAS, LTH_NATIVE_BLAS=1)`);
    if (signal?.aborted) throw new TrainingAborted(plan.start);
    await evaluate(plan.start);
    if (steps === 0) await finish(plan.start);
    if (checkpointSet.has(plan.start)) checkpoint(plan.start);
    opts.progress?.({ done: plan.start, total: plan.iterations, message: plan.start > 0 ? `starting at iteration ${plan.start}` : 'starting' });

    const loopStart = Date.now();
    for (let it = plan.start; it < plan.iterations; it++) {
      if (signal?.aborted) throw new TrainingAborted(it);
      mark = performance.now();
      batch = (batches as Generator<Batch>).next().value as Batch;
      lap('batchesMs');
      const lr = learningRate(cfg.optimizer.lr, it, lrPlan);
      const b = batch;
      const loss = nativeStep
        ? nativeStep(b, lr)
        : tf.tidy(() => {
            // One dropout stream per iteration, so a run started at k draws what an uninterrupted one does.
            const dropoutRng = createRng('dropout', cfg.seed, 'iteration', it);
            const { value, grads } = tf.variableGrads(
              () => crossEntropy(model.apply(b.x, { training: true, rng: dropoutRng, inputGradient: false }), b.y),
              vars,
            );
            const byName = new Map<string, tf.Tensor>();
            names.forEach((n, i) => {
              const g = grads[(vars[i] as tf.Variable).name];
              if (g) byName.set(n, g);
            });
            optimizer.step(byName, lr);
            return value;
          });
      lap('stepsMs');
      disposeBatch(batch);
      batch = undefined;
      lap('batchesMs');
      const done = it + 1;
      const now = Date.now();
      if (now - lastReport >= progressEvery || done === plan.iterations) {
        lastLoss = (loss.dataSync() as Float32Array)[0] as number;
        lastReport = now;
        if (!Number.isFinite(lastLoss) && !warnedDiverged) {
          warnedDiverged = true;
          log(`trainer: the training loss is ${lastLoss} at iteration ${done}: training diverged (learning rate too high?)`);
        }
        // Wall time per iteration so far, evaluations included, so the eta covers them too.
        const eta = ((now - loopStart) / (done - plan.start)) * (plan.iterations - done);
        opts.progress?.({ done, total: plan.iterations, message: `loss ${lastLoss.toFixed(4)}, eta ${formatEta(eta)}` });
      }
      loss.dispose();
      lap('stepsMs');
      if (done % plan.evalEvery === 0 || done === plan.iterations) await evaluate(done);
      if (checkpointSet.has(done)) checkpoint(done);
      if (done === plan.iterations) await finish(done);
      opts.onStep?.(done, { lr });
      // Let timers and abort handlers run; a tick costs ~microseconds, a step milliseconds.
      if (Date.now() - lastTick >= 50) {
        await tick();
        lastTick = Date.now();
      }
    }
  } finally {
    if (batch) disposeBatch(batch);
    batches?.return(undefined as never);
    model.useSparse?.(undefined);
    optimizer.dispose();
    evaluator.dispose();
    for (const m of masks.values()) m.dispose();
  }

  const earlyStop = earlyStopFrom(rows);
  if (!earlyStop) log('trainer: no validation and test metrics, so no early-stopping point');
  const durationMs = Date.now() - started;
  const metrics: Metrics = {
    meta: {
      ...(earlyStop ? { earlyStop } : {}),
      iterations: plan.iterations,
      ...(plan.start > 0 ? { startIteration: plan.start } : {}),
      backend: backendLabel(),
      remaining: remainingFraction(model, opts.mask),
      seed: cfg.seed,
      finalTrainLoss: Number.isFinite(lastLoss) ? lastLoss : null,
    },
    rows,
  };
  return {
    weights: model.toBundle('trained', { iteration: plan.iterations }),
    metrics,
    checkpoints: packCheckpoints(model.ref, saved),
    // msPerStep: a training step with its batch, as before the phases were split.
    timing: { durationMs, msPerStep: steps > 0 ? (phases.stepsMs + phases.batchesMs) / steps : 0, phases },
  };
}
