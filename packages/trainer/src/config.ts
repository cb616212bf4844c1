import { SparseMode } from '@lth/models';
import { z } from 'zod';

/**
 * A training duration: a plain number counts iterations (the paper's unit); a string "80ep" counts
 * epochs and "500it" iterations, as in open_lth. Epochs become iterations once the training split
 * size is known (see `toIterations`).
 */
export const Step = z.union([
  z.number().int().nonnegative(),
  z.string().regex(/^\d+(\.\d+)?(ep|it)$/, 'a step is a number of iterations, or a string like "80ep" (epochs) or "500it"'),
]);
export type Step = z.output<typeof Step>;

export const AdamConfig = z.object({
  type: z.literal('adam'),
  lr: z.number().positive().default(1.2e-3),
  beta1: z.number().min(0).lt(1).default(0.9),
  beta2: z.number().min(0).lt(1).default(0.999),
  epsilon: z.number().positive().default(1e-8),
});
export const SgdConfig = z.object({
  type: z.literal('sgd'),
  lr: z.number().positive(),
  momentum: z.number().min(0).lt(1).default(0),
  nesterov: z.boolean().default(false),
});
export const OptimizerConfig = z.discriminatedUnion('type', [AdamConfig, SgdConfig]);
export type OptimizerConfig = z.output<typeof OptimizerConfig>;

/**
 * Learning-rate schedules as multipliers of the optimizer's lr (open_lth's LambdaLR):
 * piecewise multiplies by gamma at each milestone reached (`gamma ** #milestones <= it`), and
 * `warmup: k` (either type) multiplies by min(1, it / k).
 */
export const ConstantSchedule = z.object({ type: z.literal('constant'), warmup: Step.default(0) });
export const PiecewiseSchedule = z.object({
  type: z.literal('piecewise'),
  milestones: z.array(Step).min(1),
  gamma: z.number().positive().default(0.1),
  warmup: Step.default(0),
});
export const ScheduleConfig = z.discriminatedUnion('type', [ConstantSchedule, PiecewiseSchedule]);
export type ScheduleConfig = z.output<typeof ScheduleConfig>;

/**
 * What each evaluation covers. The paper's early stopping needs the validation loss at every
 * evaluation, but the test accuracy only at the early-stop iteration; its learning curves want
 * test accuracy over iterations. 'every' (default, the paper's figures): test at every
 * evaluation. 'early-stop-only': test once, after training, on the weights of the iteration of
 * minimum validation loss (a copy kept on the device), so the metrics hold a single test row
 * at that iteration and meta.earlyStop as before; it saves 10,000 of LeNet's 17,000 images per
 * evaluation. With no finite validation loss, test is evaluated on the last weights.
 */
export const EvaluateConfig = z
  .object({
    test: z.enum(['every', 'early-stop-only']).default('every'),
  })
  .strict();
export type EvaluateConfig = z.output<typeof EvaluateConfig>;

export const TrainConfig = z
  .object({
    /** Training length in iterations (optimizer steps); give this or `epochs`. */
    iterations: z.number().int().nonnegative().optional(),
    /**
     * The iteration training starts at, on the same axis as `iterations` (the end, T).
     * 'weights' (default): where the starting weights are, i.e. k for weights rewound to w_k
     * or one selected checkpoint of iteration k, and 0 for an init, reinit or w0-reset bundle.
     * A network rewound to k thus trains from k to T with the schedule position of k, as in
     * the rewinding papers and open_lth. A number (or "2ep") forces a start, e.g. 0 to
     * restart the schedule from w_k.
     */
    start: z.union([z.literal('weights'), Step]).default('weights'),
    /** Training length in epochs of the training split (converted with dropLast batches). */
    epochs: z.number().nonnegative().optional(),
    batchSize: z.number().int().positive().default(60),
    /** Data order, augmentation and dropout draws. */
    seed: z.number().int().default(0),
    optimizer: OptimizerConfig.default({ type: 'adam', lr: 1.2e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 }),
    /** L2 penalty added to the gradient (PyTorch's weight_decay), on every parameter. */
    weightDecay: z.number().min(0).default(0),
    schedule: ScheduleConfig.default({ type: 'constant', warmup: 0 }),
    /** Evaluate every this many iterations, plus at 0 and at the end. */
    evalEvery: Step.default(100),
    evalBatchSize: z.number().int().positive().default(500),
    /** The first this many training examples are evaluated as the training sample (0: none). */
    trainEvalExamples: z.number().int().nonnegative().default(2000),
    /** Which splits each evaluation covers (see EvaluateConfig). */
    evaluate: EvaluateConfig.default({ test: 'every' }),
    /** Iterations whose weights are saved (0 = the starting weights, after masking). */
    checkpoints: z.array(z.number().int().nonnegative()).default([]),
    /** Random crop and flip of training batches (CIFAR). */
    augment: z.boolean().default(false),
    /**
     * Sparse products for masked dense layers (@lth/models SparseMode): 'auto' where a layer
     * keeps few enough weights to gain, 'on' every masked dense layer, 'off' never. Results
     * agree to float rounding. Part of the cache key like every field: a run forced 'on' or
     * 'off' is never served one computed the other way; 'auto', the default, gives the same
     * key written or not.
     */
    sparse: SparseMode.default('auto'),
  })
  .strict()
  .refine((c) => (c.iterations === undefined) !== (c.epochs === undefined), {
    message: 'give exactly one of iterations and epochs',
    path: ['iterations'],
  });
export type TrainConfig = z.output<typeof TrainConfig>;
export type TrainConfigInput = z.input<typeof TrainConfig>;

/** Parses a config with an error naming each bad field. */
export function parseTrainConfig(input: unknown, where = 'trainer/train config'): TrainConfig {
  const r = TrainConfig.safeParse(input ?? {});
  if (!r.success) {
    const msg = r.error.issues.map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`).join('; ');
    throw new Error(`${where}: ${msg}`);
  }
  return r.data;
}

/** Optimizer steps per epoch: full batches only, as the batch iterator drops the last partial one. */
export function iterationsPerEpoch(trainCount: number, batchSize: number): number {
  return Math.floor(trainCount / batchSize);
}

/** A Step in iterations; epochs are rounded to the nearest iteration. */
export function toIterations(step: Step, perEpoch: number, field = 'step'): number {
  if (typeof step === 'number') return step;
  const n = Number.parseFloat(step);
  if (step.endsWith('it')) {
    if (!Number.isInteger(n)) throw new Error(`${field}: '${step}' is not a whole number of iterations`);
    return n;
  }
  if (perEpoch <= 0) throw new Error(`${field}: '${step}' is in epochs but an epoch has no full batch`);
  return Math.round(n * perEpoch);
}

/** The config with every duration in iterations, for one training split size. */
export interface ResolvedPlan {
  /** The first iteration trained (the optimizer step from `start` to `start + 1`). */
  start: number;
  /** The last iteration, T: training runs from `start` to T. */
  iterations: number;
  perEpoch: number;
  evalEvery: number;
  warmup: number;
  /** Piecewise milestones in iterations, ascending (empty for constant). */
  milestones: number[];
  checkpoints: number[];
}

/**
 * `weightsIteration` is the iteration the starting weights belong to (see TrainConfig.start).
 */
export function resolvePlan(cfg: TrainConfig, trainCount: number, weightsIteration = 0): ResolvedPlan {
  const perEpoch = iterationsPerEpoch(trainCount, cfg.batchSize);
  const iterations = cfg.iterations ?? toIterations(`${cfg.epochs ?? 0}ep`, perEpoch, 'epochs');
  const start = cfg.start === 'weights' ? weightsIteration : toIterations(cfg.start, perEpoch, 'start');
  if (start > iterations) {
    throw new Error(
      `trainer/train config: training would start at iteration ${start}` +
        (cfg.start === 'weights' ? ' (where the starting weights are)' : '') +
        `, after its end at iteration ${iterations}`,
    );
  }
  const evalEvery = toIterations(cfg.evalEvery, perEpoch, 'evalEvery');
  if (evalEvery < 1) throw new Error(`trainer/train config: evalEvery must be at least 1 iteration, got ${JSON.stringify(cfg.evalEvery)}`);
  const warmup = toIterations(cfg.schedule.warmup, perEpoch, 'schedule.warmup');
  const milestones =
    cfg.schedule.type === 'piecewise' ? cfg.schedule.milestones.map((m, i) => toIterations(m, perEpoch, `schedule.milestones.${i}`)).sort((a, b) => a - b) : [];
  const late = cfg.checkpoints.filter((c) => c > iterations);
  if (late.length) {
    throw new Error(`trainer/train config: checkpoints [${late.join(', ')}] lie beyond the last iteration (${iterations})`);
  }
  const early = cfg.checkpoints.filter((c) => c < start);
  if (early.length) {
    throw new Error(`trainer/train config: checkpoints [${early.join(', ')}] lie before the first iteration (${start}: training starts where the weights are)`);
  }
  const checkpoints = [...new Set(cfg.checkpoints)].sort((a, b) => a - b);
  return { start, iterations, perEpoch, evalEvery, warmup, milestones, checkpoints };
}
