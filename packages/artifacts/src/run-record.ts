import { z } from 'zod';

/**
 * The run record: what a pipeline run did, written by the engine (@lth/pipeline) under
 * runs/ in the cache and read by `lth report` and the report stages (@lth/report). It lives
 * here, next to StageDef, so that both sides use one schema.
 */

/**
 * What became of a stage in a run: computed (`ran`), taken from the cache (`cached`),
 * `failed`, or `skipped` (an input stage did not complete, or the run was interrupted first).
 * Run events, run records, `lth status` (the outcome a run would have) and the CLI's display
 * all speak this vocabulary.
 */
export const StageOutcome = z.enum(['ran', 'cached', 'failed', 'skipped']);
export type StageOutcome = z.output<typeof StageOutcome>;

/** An input port's binding to an output of another stage. */
export const PortBinding = z.object({ stage: z.string(), port: z.string() });
export type PortBinding = z.output<typeof PortBinding>;
const Bindings = z.record(z.string(), z.union([PortBinding, z.array(PortBinding)]));

export const StageRecord = z.object({
  id: z.string(),
  uses: z.string(),
  status: StageOutcome,
  /** From the moment its inputs were ready to its outcome: includes waiting for a free slot or a lock. */
  durationMs: z.number(),
  /** How long computing its entry took (when it ran, or earlier for a cache hit). */
  computeMs: z.number().optional(),
  cacheKey: z.string().nullable(),
  /** Why it ran (cache miss reason), why it was skipped, or 'cache hit'. */
  why: z.string(),
  error: z.string().optional(),
  inputs: Bindings,
  /** Output port → absolute artifact path. */
  outputs: z.record(z.string(), z.string()),
  /** Directory of extra files the stage wrote (e.g. an HTML report). */
  files: z.string().optional(),
  backend: z.string().optional(),
});
export type StageRecord = z.output<typeof StageRecord>;

/** A run record as read back: validated, so commands never trip over `{}` or a truncated file. */
export const RunRecord = z.object({
  version: z.literal(1),
  name: z.string(),
  file: z.string(),
  status: z.enum(['ok', 'failed', 'interrupted']),
  startedAt: z.string(),
  finishedAt: z.string(),
  durationMs: z.number(),
  cacheDir: z.string(),
  /** The tfjs backend the stages ran on (of the cached entries when nothing ran). */
  backend: z.string(),
  versions: z.record(z.string(), z.string()),
  params: z.record(z.string(), z.unknown()),
  /** The expanded pipeline: every stage with its parsed config and bindings. */
  pipeline: z.array(z.object({ id: z.string(), uses: z.string(), config: z.unknown(), inputs: Bindings })),
  stages: z.array(StageRecord),
  /** Where the outputs are: the report stages' files, else the last stage's outputs. */
  report: z.string().optional(),
  recordFile: z.string().optional(),
  /** Set (never written) when the record could not be written: why. */
  recordError: z.string().optional(),
});
export type RunRecord = z.output<typeof RunRecord>;
