import { readMetrics, type MetricRow } from '@lth/artifacts';
import type { Executor } from '../runner/executor';
import { loadPipeline } from '../definition/plan';
import type { Registry } from '../definition/registry';
import { runPipeline, type RunEvent } from '../runner/run';
import type { ArtifactStore } from '../cache/store';
import { objectiveCurve, objectiveValue } from './objective';
import { ashaContinues, evaluations, objectiveUpTo, rowsFromValues, rungsReached } from './single-run';
import type { SweepSpace } from './space';
import type { RungResult, TrialRecord } from './state';
import type { SweepEvent } from './study';

export interface OnceContext {
  pipelineFile: string;
  registry: Registry;
  store: ArtifactStore;
  executor: Executor;
  space: SweepSpace;
  budgets: readonly number[];
  metricsPort: string;
  /** The study's signal (Ctrl-C); each trial also gets its own, which the pruner fires. */
  signal: AbortSignal;
  /** Every trial of the study: the values reported at a rung by all of them compete. */
  trials: readonly TrialRecord[];
  /** `--set` values of a trial (its params and the budget param at the full budget). */
  sets(trial: TrialRecord): string[];
  nextSeq(): number;
  emit(e: SweepEvent): void;
  onRunEvent?: (trial: number, budget: number, e: RunEvent) => void;
}

/**
 * Runs one trial of a single-run ASHA study: the pipeline once, at the full budget. The
 * objective stage's evaluations (progress values) are judged rung by rung as they arrive; a
 * trial the pruner stops is aborted through its own AbortController, which stops its training
 * stage (and frees the worker) and leaves no cache entry for it. A run whose stage reported no
 * values (a cache hit, or a stage that does not report) is judged afterwards from its metrics.
 * Returns the iterations computed in this process (0 for a cache hit); sets `trial.trained`,
 * the iterations its results stand for. Leaves the trial unrecorded when the study is interrupted.
 */
export async function runTrialOnce(ctx: OnceContext, trial: TrialRecord): Promise<number> {
  const { space, budgets } = ctx;
  const top = budgets.length - 1;
  const full = budgets[top] as number;
  const { stage, metric, direction } = space.objective;
  const t0 = Date.now();
  trial.rungs = [];
  delete trial.trained;
  ctx.emit({ type: 'trial', trial: trial.trial, rung: top, budget: full, params: trial.params, state: 'running' });

  const rows: MetricRow[] = [];
  let lastLive = -1;
  let stoppedAt: number | undefined;
  const result = (rung: number, value: number | null, at: number, error?: string): RungResult => ({
    rung,
    budget: budgets[rung] as number,
    value,
    ...(error ? { error } : {}),
    at,
    curve: objectiveCurve({ meta: {}, rows: rows.filter((r) => r.iteration <= at) }, metric),
    seq: ctx.nextSeq(),
    durationMs: Date.now() - t0,
    ran: 0,
    cached: 0,
    finishedAt: new Date().toISOString(),
  });
  /** Records the rungs an evaluation at `iteration` reaches; false when the pruner stops the trial. */
  const judge = (iteration: number): boolean => {
    for (const k of rungsReached(budgets, trial.rungs.length, iteration)) {
      const value = objectiveUpTo(rows, metric, iteration);
      const r = result(k, value, iteration, value === null ? `${stage}: no finite ${metric} at iteration ${iteration}` : undefined);
      trial.rungs.push(r);
      const competing = ctx.trials.flatMap((t) => t.rungs.filter((x) => x.rung === k).map((x) => x.value));
      const go = ashaContinues(value, competing, space.pruner.eta, direction);
      ctx.emit({ type: 'trial', trial: trial.trial, rung: k, budget: r.budget, params: trial.params, state: value === null ? 'failed' : go ? 'done' : 'pruned', result: r });
      if (!go) {
        stoppedAt = iteration;
        return false;
      }
    }
    return true;
  };

  const own = new AbortController();
  const stop = () => own.abort();
  ctx.signal.addEventListener('abort', stop, { once: true });
  if (ctx.signal.aborted) own.abort();
  const onEvent = (e: RunEvent) => {
    ctx.onRunEvent?.(trial.trial, full, e);
    const p = e.type === 'progress' && e.id === stage ? e.progress : undefined;
    // The last evaluation ends the run anyway: it is judged from the metrics, not aborted.
    if (!p?.values || p.iteration === undefined || p.iteration >= full || stoppedAt !== undefined || own.signal.aborted) return;
    rows.push(...rowsFromValues(p.iteration, p.values));
    lastLive = p.iteration;
    if (!judge(p.iteration)) own.abort();
  };
  let error: string | undefined;
  let computed = false;
  let ran = 0;
  let cached = 0;
  let metricsFile: string | undefined;
  try {
    const plan = loadPipeline(ctx.pipelineFile, { registry: ctx.registry, sets: ctx.sets(trial) });
    const rec = await runPipeline(plan, { store: ctx.store, executor: ctx.executor, signal: own.signal, onEvent });
    ran = rec.stages.filter((s) => s.status === 'ran').length;
    cached = rec.stages.filter((s) => s.status === 'cached').length;
    const st = rec.stages.find((s) => s.id === stage);
    computed = st?.status === 'ran' || lastLive >= 0;
    metricsFile = st?.outputs[ctx.metricsPort];
    if (stoppedAt === undefined && rec.status !== 'ok') error = rec.stages.find((s) => s.error)?.error ?? `stage '${stage}' did not complete`;
  } catch (err) {
    error = err instanceof Error ? err.message : String(err);
  } finally {
    ctx.signal.removeEventListener('abort', stop);
  }
  if (ctx.signal.aborted && stoppedAt === undefined) {
    trial.rungs = []; // not recorded: a resumed study runs the trial again
    return 0;
  }
  if (stoppedAt === undefined && !error && metricsFile) {
    // Evaluations not seen live (all of them on a cache hit) are judged now, in order.
    const metrics = readMetrics(metricsFile);
    for (const ev of evaluations(metrics)) {
      if (ev.iteration <= lastLive) continue;
      rows.push(...ev.rows);
      if (!judge(ev.iteration)) break;
    }
    if (stoppedAt === undefined) {
      const value = objectiveValue(metrics, metric);
      const r = result(top, value, full, value === null ? `${stage}: no finite ${metric} in its metrics` : undefined);
      Object.assign(r, { curve: objectiveCurve(metrics, metric), ran, cached });
      trial.rungs.push(r);
      ctx.emit({ type: 'trial', trial: trial.trial, rung: top, budget: full, params: trial.params, state: value === null ? 'failed' : 'done', result: r });
    }
  } else if (stoppedAt === undefined) {
    const rung = Math.min(trial.rungs.length, top);
    const r = { ...result(rung, null, Math.max(0, lastLive), error ?? `stage '${stage}' has no metrics output`), ran, cached };
    trial.rungs.push(r);
    ctx.emit({ type: 'trial', trial: trial.trial, rung, budget: r.budget, params: trial.params, state: 'failed', result: r });
  }
  // The run's stage counts go on its last record; a stopped trial trained up to the evaluation
  // that stopped it (a worker process may take a few more steps before the abort reaches it).
  const last = trial.rungs[trial.rungs.length - 1] as RungResult;
  last.ran = ran;
  last.cached = cached;
  trial.trained = stoppedAt ?? (error ? Math.max(0, lastLive) : full);
  return computed ? trial.trained : 0;
}
