import type { z } from 'zod';
import type { ArtifactKind, ArtifactTypes } from './kinds';

/**
 * The stage contract. It lives at the bottom of the dependency order so that stage packages
 * depend only downward; the pipeline engine consumes it through each package's `stages`.
 */
export interface PortSpec {
  kind: ArtifactKind;
  /** A list of artifacts of this kind (e.g. every round's metrics for a report). */
  many?: boolean;
  /** The stage runs without it. */
  optional?: boolean;
  description?: string;
}
export type Ports = Record<string, PortSpec>;

type ValueOf<P extends PortSpec> = P['many'] extends true ? ArtifactTypes[P['kind']][] : ArtifactTypes[P['kind']];
export type Loaded<In extends Ports> = {
  [K in keyof In]: In[K]['optional'] extends true ? ValueOf<In[K]> | undefined : ValueOf<In[K]>;
};
export type Produced<Out extends Ports> = { [K in keyof Out]: ArtifactTypes[Out[K]['kind']] };

export interface Progress {
  done: number;
  total: number;
  /** Short status, e.g. "loss 0.231". */
  message?: string;
  /**
   * The iteration that `values` were measured at (e.g. an evaluation of the trainer), for
   * consumers that act on intermediate results while the stage runs (a sweep's pruner).
   */
  iteration?: number;
  /**
   * Intermediate results by name, e.g. `{ 'validation.loss': 0.31, 'validation.accuracy': 0.9 }`.
   * Finite numbers only: progress may cross a process boundary as JSON, where NaN is lost.
   */
  values?: Record<string, number>;
}

/**
 * What a running stage may use. A stage is a pure function of (config, inputs, code): seeds
 * come from its config, never from the context, so that they are part of the cache key.
 */
export interface StageContext {
  log(message: string): void;
  progress(p: Progress): void;
  signal: AbortSignal;
  /** A private directory for extra files (e.g. an HTML report); kept with the outputs. */
  outDir: string;
  /** The tfjs backend the stage runs on, as its `setup` reported it ('none' for a stage without tensors). */
  backend: string;
  /**
   * Per input port, the stages that produced the bound artifacts and how long each took
   * (wall clock). Impure: for human-facing extra files (a report's training time) only, never
   * for outputs, which must stay a pure function of config and inputs.
   */
  inputTimings?: Record<string, Array<{ stage: string; durationMs: number }>>;
  /**
   * Reports where the stage's own time went (wall ms by phase, e.g. the trainer's steps and
   * evaluations) for the run record's `timings.phases`; a later call replaces an earlier one.
   * Impure like inputTimings: never put such numbers into outputs.
   */
  recordPhases?(ms: Record<string, number>): void;
}

/** What a stage's `setup` prepared, for the cache entry and the run record. */
export interface StageSetup {
  /** The tensor backend now in use (e.g. 'wasm'). */
  backend?: string;
}

export interface StageDef<Cfg extends z.ZodType = z.ZodType, In extends Ports = Ports, Out extends Ports = Ports> {
  id: `${string}/${string}`;
  description: string;
  config: Cfg;
  inputs: In;
  outputs: Out;
  /**
   * Prepares the process for this stage, once per process before its first run: a stage that
   * computes with tensors initializes the tensor backend here (`ensureBackend` of
   * @lth/compute), so that the engine, which never imports a domain package, need not.
   */
  setup?(): Promise<StageSetup | void>;
  run(ctx: StageContext, cfg: z.output<Cfg>, inputs: Loaded<In>): Promise<Produced<Out>>;
}

/** Identity helper that keeps the literal port types for inference. */
export function defineStage<Cfg extends z.ZodType, In extends Ports, Out extends Ports>(def: StageDef<Cfg, In, Out>): StageDef<Cfg, In, Out> {
  return def;
}

export type AnyStageDef = StageDef<z.ZodType, Ports, Ports>;

/** A context for running a stage as a plain function, outside the pipeline engine. */
export function plainContext(outDir: string, opts: Partial<StageContext> = {}): StageContext {
  return {
    log: (m) => process.stderr.write(`${m}\n`),
    progress: () => {},
    signal: new AbortController().signal,
    outDir,
    backend: 'unknown',
    ...opts,
  };
}
