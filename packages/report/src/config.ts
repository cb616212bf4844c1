import { z } from 'zod';

/**
 * Config of the report/lottery stage. Strict: a misspelt key (`seed` for `seeds`) is an error,
 * not a silently ignored setting. How list ports map to rounds and seeds is described at
 * `collectRuns` (runs.ts); the fields here only name the choices.
 */
export const ReportConfig = z.strictObject({
  title: z.string().min(1).default('Lottery ticket report'),
  /** What was run, shown in the report's header (the pipeline passes its name and params). */
  pipeline: z.string().optional(),
  params: z.record(z.string(), z.unknown()).optional(),
  /** Variant labels in the plots and tables. */
  labels: z
    .strictObject({
      tickets: z.string().min(1).default('winning ticket'),
      reinit: z.string().min(1).default('random reinit'),
      randomPrune: z.string().min(1).default('random pruning'),
      /**
       * One label per compared pipeline: the `compare` list is cut into this many equal,
       * consecutive parts (e.g. ['one-shot'] or ['one-shot', 'dropout']).
       */
      compare: z.array(z.string().min(1)).default(['compare']),
    })
    .prefault({}),
  /** Runs per (variant, round): several seeds are averaged, with error bars. */
  seeds: z.number().int().positive().default(1),
  /**
   * How seeds are interleaved in a list: 'seed-major' = every round of seed 0, then every
   * round of seed 1 (what a foreach over seeds around a foreach over rounds collects);
   * 'round-major' = every seed of round 0, then round 1, ...
   */
  order: z.enum(['seed-major', 'round-major']).default('seed-major'),
  /**
   * Pruning rate per round, used for Pm = (1 - rate)^round only when neither metrics
   * meta.remaining nor a sparsity artifact gives it.
   */
  rate: z.number().gt(0).lt(1).optional(),
  /** Pm values whose learning curves are drawn (the nearest round of each variant). */
  curves: z.array(z.number().gt(0).max(1)).default([1, 0.513, 0.211, 0.07, 0.036, 0.019]),
  /**
   * Iterations to report test accuracy at (the nearest evaluation of each run), besides early
   * stop: the paper's VGG-19 and ResNet-18 figures report accuracy at fixed iterations (VGG-19
   * at 30K, 60K and 112K; ResNet-18 at 10K, 20K and 30K). Each adds summary columns
   * `testAccuracyAt<N>` (mean, Min, Max, Std over seeds) and a plot vs Pm.
   */
  at: z.array(z.number().int().nonnegative()).min(1).optional(),
  /** Error bars across seeds: the min..max range or mean ± one standard deviation. */
  errorBars: z.enum(['minmax', 'std']).default('minmax'),
});
export type ReportConfig = z.output<typeof ReportConfig>;
export type ReportConfigInput = z.input<typeof ReportConfig>;
