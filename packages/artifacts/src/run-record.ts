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

const Ms = z.number().nonnegative();

/**
 * Where a stage's wall time went, in milliseconds, measured where it is spent: the scheduler
 * (cache, queue), the task that ran the stage (start-up, I/O, run, commit) and the stage itself
 * (`phases`, through StageContext.recordPhases). Sums of performance.now() differences, so
 * cheap; wall-clock facts, so only here and in events, never in artifacts.
 */
export const StageTimings = z.object({
  /**
   * Cache work: binding inputs and computing the key (code fingerprint included, memoized per
   * process), lookups (reading and verifying entries: their files are hashed; also the check
   * of an entry a worker process just committed), waiting for the key's lock, and, when it ran,
   * committing its entry (hashing the outputs and files, writing entry.json, the rename).
   */
  cache: z.object({ keyMs: Ms, lookupMs: Ms, lockMs: Ms, commitMs: Ms.optional() }),
  /** Waiting for a free executor slot (the stage was ready, the executor busy). */
  queueMs: Ms.optional(),
  /**
   * Stage start-up, when it ran: `spawnMs` from forking a fresh worker process to its first
   * task (0 for a reused worker or in-process), `modulesMs` loading stage modules in the worker,
   * `setupMs` the stage's setup hook (tensor backend; once per process, then 0).
   */
  startup: z.object({ spawnMs: Ms, modulesMs: Ms, setupMs: Ms }).optional(),
  /** Artifact I/O, when it ran: reading and verifying the inputs, writing the outputs. */
  io: z.object({ readMs: Ms, writeMs: Ms }).optional(),
  /** The stage's run(), when it ran. */
  runMs: Ms.optional(),
  /** Parts of runMs the stage measured itself (trainer/train: stepsMs, batchesMs, evaluationMs, checkpointsMs). */
  phases: z.record(z.string(), Ms).optional(),
});
export type StageTimings = z.output<typeof StageTimings>;

/** What the task that ran a stage measured; the executor hands it over with the entry. */
export const TaskTimings = z.object({
  startup: StageTimings.shape.startup.unwrap(),
  io: StageTimings.shape.io.unwrap(),
  runMs: Ms,
  phases: StageTimings.shape.phases,
  commitMs: Ms,
  /** The coordinator's check of an entry a worker process committed (the process executor). */
  verifyMs: Ms.optional(),
});
export type TaskTimings = z.output<typeof TaskTimings>;

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
  /** Where its time went (records before this field have none). */
  timings: StageTimings.optional(),
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
