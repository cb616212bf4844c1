import { readMetrics, type Metrics } from '@lth/artifacts';
import { loadPipeline, runPipeline, type ArtifactStore, type Executor, type Registry, type RunEvent } from '@lth/pipeline';
import type { TrialParams } from './sampler';
import type { Action } from './successive-halving';
import type { SweepSpace } from './space';
import type { RungResult, TrialRecord } from './state';

export type SweepEvent =
  | { type: 'start'; budgets: number[]; trials: number; resumed: number }
  | { type: 'trial'; trial: number; rung: number; budget: number; params: TrialParams; state: 'running' }
  | { type: 'trial'; trial: number; rung: number; budget: number; params: TrialParams; state: 'done' | 'failed' | 'pruned'; result: RungResult };

/** What a trial run needs from its study: the pipeline, the engine, the space and the study's state. */
export interface TrialContext {
  pipelineFile: string;
  registry: Registry;
  store: ArtifactStore;
  executor: Executor;
  space: SweepSpace;
  budgets: readonly number[];
  /** The objective stage's metrics output port. */
  metricsPort: string;
  /** The study's signal (Ctrl-C). Each trial run also gets its own, which the pruner may fire. */
  signal: AbortSignal;
  /** Every trial of the study (single-run: the values reported at a rung by all of them compete). */
  trials: readonly TrialRecord[];
  /** The next completion number (RungResult.seq). */
  nextSeq(): number;
  emit(e: SweepEvent): void;
  onRunEvent?: (trial: number, budget: number, e: RunEvent) => void;
}

/**
 * One way of running a study's trials (restart.ts, single-run.ts): what to do when a slot is
 * free, given the trial-rungs running, and how to run what it chose. `run` records its results
 * on the trial and returns the budget it computed (0 for cache hits and interrupted runs).
 */
export interface SweepMode {
  next(running: ReadonlyArray<{ trial: number; rung: number }>): Action;
  run(trial: TrialRecord, rung: number): Promise<number>;
}

/** How a trial's pipeline run ended. */
export interface TrialRun {
  /** The study was interrupted before the run ended (and the pruner had not stopped it): record nothing. */
  interrupted: boolean;
  /** `onEvent` stopped the run (the single-run pruner). */
  stopped: boolean;
  /** The objective's metrics, when the run completed. */
  metrics?: Metrics;
  /** Why there are no metrics (a stage's error), unless interrupted or stopped. */
  error?: string;
  /** Stages computed / taken from the cache. */
  ran: number;
  cached: number;
  /** The objective stage was computed (not a cache hit). */
  objectiveRan: boolean;
}

/**
 * `--set` values of a trial at a budget. JSON is valid YAML, so strings stay strings and
 * numbers numbers through `--set` parsing. The budget param is set unless the space leaves
 * the pipeline's own value (pruner `none` without maxBudget).
 */
export function trialSets(space: SweepSpace, trial: TrialRecord, budget: number): string[] {
  const out = Object.entries(trial.params).map(([k, v]) => `params.${k}=${JSON.stringify(v)}`);
  const p = space.pruner;
  if (p.type !== 'none' || p.maxBudget !== undefined) out.push(`params.${p.budgetParam}=${budget}`);
  return out;
}

/**
 * Runs the pipeline once for a trial at a budget, on the study's shared cache. The run gets
 * its own AbortController, linked to the study's signal: runPipeline's stages each listen to
 * it (one study-long signal would collect listeners from every trial), and `onEvent` can stop
 * this run alone by returning 'stop', which aborts its stages (a worker process stops its
 * stage and is free for the next trial; an aborted stage leaves no cache entry). Every event
 * also goes to the study's `onRunEvent`; `onEvent` sees them only until the run is aborted.
 */
export async function runTrial(ctx: TrialContext, trial: TrialRecord, budget: number, onEvent?: (e: RunEvent) => 'stop' | void): Promise<TrialRun> {
  const own = new AbortController();
  const stop = () => own.abort();
  ctx.signal.addEventListener('abort', stop, { once: true });
  if (ctx.signal.aborted) own.abort();
  let stopped = false;
  const listen = (e: RunEvent) => {
    ctx.onRunEvent?.(trial.trial, budget, e);
    if (own.signal.aborted || onEvent?.(e) !== 'stop') return;
    stopped = true;
    own.abort();
  };
  const stage = ctx.space.objective.stage;
  const out: TrialRun = { interrupted: false, stopped: false, ran: 0, cached: 0, objectiveRan: false };
  try {
    const plan = loadPipeline(ctx.pipelineFile, { registry: ctx.registry, sets: trialSets(ctx.space, trial, budget) });
    const rec = await runPipeline(plan, { store: ctx.store, executor: ctx.executor, signal: own.signal, onEvent: listen });
    out.ran = rec.stages.filter((s) => s.status === 'ran').length;
    out.cached = rec.stages.filter((s) => s.status === 'cached').length;
    const st = rec.stages.find((s) => s.id === stage);
    out.objectiveRan = st?.status === 'ran';
    const file = st?.outputs[ctx.metricsPort];
    if (rec.status !== 'ok') out.error = rec.stages.find((s) => s.error)?.error ?? `stage '${stage}' did not complete`;
    else if (!file) out.error = `stage '${stage}' has no metrics output`;
    else out.metrics = readMetrics(file);
  } catch (err) {
    out.error = err instanceof Error ? err.message : String(err);
  } finally {
    ctx.signal.removeEventListener('abort', stop);
  }
  out.stopped = stopped;
  out.interrupted = ctx.signal.aborted && !stopped;
  if (out.interrupted || stopped) delete out.error;
  return out;
}
