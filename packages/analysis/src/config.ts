import { createHash } from 'node:crypto';
import { TrainConfig } from '@lth/trainer';
import { z } from 'zod';

// The copies' training config: trainer/train's, without `seed` (each copy gets its own, below)
// and `checkpoints` (the copies' intermediate weights are not kept). Strict, so a `seed` given
// here is an error instead of being silently replaced.
const { seed: _seed, checkpoints: _checkpoints, ...copyFields } = TrainConfig.shape;
export const CopyTrainConfig = z.strictObject(copyFields).refine((c) => (c.iterations === undefined) !== (c.epochs === undefined), {
  message: 'give exactly one of iterations and epochs',
  path: ['iterations'],
});
export type CopyTrainConfig = z.output<typeof CopyTrainConfig>;

export const EVAL_SPLITS = ['train', 'validation', 'test'] as const;

/**
 * Batch-norm running statistics of each network on the path:
 * - `recompute` (default): the running mean and variance of every batch-norm layer are
 *   measured again on training data for each interpolated network (the mean over `examples /
 *   batchSize` full batches, in train mode, of each batch's mean and unbiased variance:
 *   PyTorch's cumulative `momentum=None` average). Interpolating the two endpoints' running
 *   statistics does not give the statistics of the interpolated network's activations, so
 *   its error would measure that mismatch instead of the loss landscape.
 * - `interpolate`: the running statistics are interpolated like every other tensor (the
 *   naive choice, for comparison).
 * Learned batch-norm scales and shifts are parameters and are always interpolated.
 */
export const BatchNormConfig = z.strictObject({
  mode: z.enum(['recompute', 'interpolate']).default('recompute'),
  /** Training examples (the first N of the training split, unaugmented) to recompute on. */
  examples: z.number().int().positive().default(2000),
  /** Batch size of the recomputation (default: the copies' training batch size). */
  batchSize: z.number().int().positive().optional(),
});
export type BatchNormConfig = z.output<typeof BatchNormConfig>;

export const InstabilityConfig = z.strictObject({
  /** Label of this analysis in tables and plots (e.g. "dense", "IMP 21%"). */
  label: z.string().min(1).max(200).default('network'),
  /**
   * k, the iteration of the starting weights: picks w_k when `weights` is a bundle of
   * several checkpoints; otherwise it must match the weights' own iteration (if given).
   */
  iteration: z.number().int().nonnegative().optional(),
  /** How the two copies train from k to T (trainer/train's config, without seed and checkpoints). */
  train: CopyTrainConfig,
  /** Derives the two copies' data-order seeds when `seeds` is not given. */
  seed: z.number().int().default(0),
  /** The two copies' data-order (SGD noise) seeds, explicitly; they must differ. */
  seeds: z
    .tuple([z.number().int(), z.number().int()])
    .refine(([a, b]) => a !== b, { message: 'the two copies need different seeds (equal seeds train the same network twice)' })
    .optional(),
  /** Evenly spaced alpha in [0, 1], both ends included. */
  points: z.number().int().min(2).max(1001).default(30),
  /** Splits the path is evaluated on. */
  splits: z
    .array(z.enum(EVAL_SPLITS))
    .min(1)
    .refine((s) => new Set(s).size === s.length, { message: 'a split is listed twice' })
    .default(['test']),
  /** Evaluate only the first N examples of each split (null: all of them). */
  examples: z.number().int().positive().nullable().default(null),
  evalBatchSize: z.number().int().positive().default(500),
  batchNorm: BatchNormConfig.prefault({}),
});
export type InstabilityConfig = z.output<typeof InstabilityConfig>;
export type InstabilityConfigInput = z.input<typeof InstabilityConfig>;

/**
 * The copies' data-order seeds derived from one seed: two 31-bit integers from sha256 of
 * ("instability", seed, copy). Hashed values practically never equal the small seeds a
 * pipeline uses for its own training runs, so a copy does not by accident replay the data
 * order of the run it started from; they are distinct (checked).
 */
export function copySeeds(seed: number): [number, number] {
  const derive = (copy: string) => createHash('sha256').update(`instability|${seed}|${copy}`).digest().readUInt32BE(0) >>> 1;
  const a = derive('A');
  let b = derive('B');
  if (b === a) b = (a + 1) % 2 ** 31;
  return [a, b];
}

export function seedsOf(cfg: InstabilityConfig): [number, number] {
  return cfg.seeds ?? copySeeds(cfg.seed);
}
