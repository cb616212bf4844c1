import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { readMetrics } from '@lth/artifacts';
import type { Executor } from '../runner/executor';
import { loadPipeline } from '../definition/plan';
import type { Registry } from '../definition/registry';
import { runPipeline, type RunEvent } from '../runner/run';
import type { ArtifactStore } from '../cache/store';
import { ashaNext } from './asha';
import { objectiveCurve, objectiveValue } from './objective';
import { writeStudyOutputs } from './outputs';
import { sampleTrials, type TrialParams } from './sampler';
import { rungBudgets, shaNext, type Action, type Job, type Schedule } from './sha';
import { checkSpaceAgainst, type LoadedSpace } from './space';
import { bestOf, computeOf, jobsOf, readStudy, settleStates, spaceHash, writeStudy, type RungResult, type StudyFile, type TrialRecord } from './state';
import { SharedSlots } from './slots';
import { runTrialOnce } from './once';

export interface SweepOptions {
  pipelineFile: string;
  spaceFile: string;
  space: LoadedSpace;
  registry: Registry;
  store: ArtifactStore;
  executor: Executor;
  /** Study directory: study.json, trials.arrow, sweep.html. */
  outDir: string;
  /** auto: resume from study.json when present; require: it must be there; fresh: start over. */
  resume?: 'auto' | 'require' | 'fresh';
  signal?: AbortSignal;
  onEvent?: (e: SweepEvent) => void;
  /** The trial pipelines' own events (stage progress), tagged with the trial. */
  onRunEvent?: (trial: number, budget: number, e: RunEvent) => void;
}

export type SweepEvent =
  | { type: 'start'; budgets: number[]; trials: number; resumed: number }
  | { type: 'trial'; trial: number; rung: number; budget: number; params: TrialParams; state: 'running' }
  | { type: 'trial'; trial: number; rung: number; budget: number; params: TrialParams; state: 'done' | 'failed' | 'pruned'; result: RungResult };

export interface SweepResult {
  study: StudyFile;
  files: { study: string; trials: string; html: string };
}

/**
 * Runs (or resumes) a study: trials are the pipeline with the swept params and the budget
 * param overridden (`--set`), sharing one cache, so stages that do not depend on the swept
 * params (data, init) are computed once for the whole study. In the default `restart` mode
 * the pruner decides at rung boundaries which trial trains next at which budget; a promoted
 * trial trains again from its start at the larger budget (another config, another cache key):
 * the trainer cannot resume its optimizer state from a checkpoint, so nothing here pretends to
 * continue a run. In `single-run` mode each trial runs once at the full budget and the pruner
 * stops it while it runs (once.ts).
 */
export async function runSweep(opts: SweepOptions): Promise<SweepResult> {
  const { space } = opts.space;
  const signal = opts.signal ?? new AbortController().signal;
  const emit = opts.onEvent ?? (() => {});
  const base = loadPipeline(opts.pipelineFile, { registry: opts.registry });
  const metricsPort = checkSpaceAgainst(opts.space, base);
  const p = space.pruner;
  const setsBudget = p.type !== 'none' || p.maxBudget !== undefined;
  const budgets =
    p.type === 'none' ? [p.maxBudget ?? Number(base.params[p.budgetParam] ?? 0)] : rungBudgets(p.minBudget as number, p.maxBudget as number, p.eta);
  const params = sampleTrials(space);
  const hash = spaceHash(space, resolve(opts.pipelineFile), params);
  const old = readStudy(opts.outDir, hash, opts.resume ?? 'auto');
  const singleRun = p.mode === 'single-run';
  // single-run: only a trial whose run ended counts; one interrupted mid-run is run again.
  const kept = (i: number) => (singleRun && old?.trials[i]?.trained === undefined ? {} : { rungs: old?.trials[i]?.rungs, trained: old?.trials[i]?.trained });
  const trials: TrialRecord[] = params.map((pr, i) => {
    const k = kept(i);
    return { trial: i, params: pr, state: 'pending', rungs: k.rungs ?? [], ...(k.trained !== undefined ? { trained: k.trained } : {}) };
  });
  const computedBefore = old?.compute.budgetComputed ?? 0;
  let computedNow = 0;
  let seq = Math.max(0, ...trials.flatMap((t) => t.rungs.map((r) => r.seq + 1)));
  const study: StudyFile = {
    version: 1,
    name: space.name ?? base.name,
    pipeline: resolve(opts.pipelineFile),
    spaceFile: resolve(opts.spaceFile),
    space,
    spaceHash: hash,
    seed: space.seed,
    budgets,
    status: 'running',
    startedAt: old?.startedAt ?? new Date().toISOString(),
    updatedAt: new Date().toISOString(),
    trials,
    compute: computeOf(trials, budgets[budgets.length - 1] as number, computedBefore, 0, singleRun),
  };
  mkdirSync(opts.outDir, { recursive: true });
  emit({ type: 'start', budgets, trials: trials.length, resumed: trials.reduce((a, t) => a + t.rungs.length, 0) });

  const schedule: Schedule = { trials: trials.length, rungs: budgets.length, eta: p.eta, direction: space.objective.direction };
  const decide: (jobs: readonly Job[], s: Schedule) => Action = p.type === 'asha' ? ashaNext : shaNext;
  const running = new Map<string, { trial: number; rung: number; done: Promise<void> }>();
  const executor = new SharedSlots(opts.executor);
  const save = () => {
    // single-run decisions are final when taken: a stopped trial is pruned at once.
    settleStates(trials, budgets.length - 1, new Set([...running.values()].map((r) => r.trial)), study.status === 'complete' || singleRun);
    study.updatedAt = new Date().toISOString();
    study.compute = computeOf(trials, budgets[budgets.length - 1] as number, computedBefore, computedNow, singleRun);
    study.best = bestOf(trials, space.objective.direction);
    writeStudy(opts.outDir, study);
  };

  const runJob = async (trial: TrialRecord, rung: number): Promise<void> => {
    const budget = budgets[rung] as number;
    emit({ type: 'trial', trial: trial.trial, rung, budget, params: trial.params, state: 'running' });
    const t0 = Date.now();
    let value: number | null = null;
    let error: string | undefined;
    let curve: Array<[number, number]> | undefined;
    let ran = 0;
    let cached = 0;
    try {
      const plan = loadPipeline(opts.pipelineFile, { registry: opts.registry, sets: sets(trial, budget) });
      // A signal per trial-rung: runPipeline's stages each listen to it, and one study-long
      // signal would collect listeners from every trial.
      const own = new AbortController();
      const stop = () => own.abort();
      signal.addEventListener('abort', stop, { once: true });
      if (signal.aborted) own.abort();
      const rec = await runPipeline(plan, { store: opts.store, executor, signal: own.signal, onEvent: (e) => opts.onRunEvent?.(trial.trial, budget, e) }).finally(() =>
        signal.removeEventListener('abort', stop),
      );
      if (rec.status === 'interrupted') return; // not recorded: a resumed study reruns it (its finished stages are cache hits)
      ran = rec.stages.filter((s) => s.status === 'ran').length;
      cached = rec.stages.filter((s) => s.status === 'cached').length;
      const st = rec.stages.find((s) => s.id === space.objective.stage);
      const file = st?.outputs[metricsPort];
      if (rec.status !== 'ok' || !file) error = rec.stages.find((s) => s.error)?.error ?? `stage '${space.objective.stage}' did not complete`;
      else {
        const metrics = readMetrics(file);
        value = objectiveValue(metrics, space.objective.metric);
        curve = objectiveCurve(metrics, space.objective.metric);
        if (value === null) error = `${space.objective.stage}: no finite ${space.objective.metric} in its metrics`;
      }
    } catch (err) {
      if (signal.aborted) return;
      error = err instanceof Error ? err.message : String(err);
    }
    if (ran > 0) computedNow += budget;
    const result: RungResult = { rung, budget, value, ...(error ? { error } : {}), ...(curve ? { curve } : {}), seq: seq++, durationMs: Date.now() - t0, ran, cached, finishedAt: new Date().toISOString() };
    trial.rungs.push(result);
    emit({ type: 'trial', trial: trial.trial, rung, budget, params: trial.params, state: value === null ? 'failed' : 'done', result });
  };

  const sets = (trial: TrialRecord, budget: number) => {
    // JSON is valid YAML, so strings stay strings and numbers numbers through `--set` parsing.
    const out = Object.entries(trial.params).map(([k, v]) => `params.${k}=${JSON.stringify(v)}`);
    if (setsBudget) out.push(`params.${p.budgetParam}=${budget}`);
    return out;
  };
  const once = {
    ...opts,
    space,
    budgets,
    metricsPort,
    signal,
    trials,
    executor,
    sets: (t: TrialRecord) => sets(t, budgets[budgets.length - 1] as number),
    nextSeq: () => seq++,
    emit,
  };
  const runOnce = async (trial: TrialRecord) => {
    computedNow += await runTrialOnce(once, trial);
  };
  // single-run: trials start in order and each runs once; the pruner acts inside the runs.
  const decideOnce = (): Action => {
    const busy = new Set([...running.values()].map((r) => r.trial));
    const next = trials.find((t) => t.trained === undefined && !busy.has(t.trial));
    return next ? { type: 'start', trial: next.trial } : running.size ? { type: 'wait' } : { type: 'done' };
  };

  let over = false;
  try {
    for (;;) {
      while (!signal.aborted && running.size < space.parallel) {
        const a = singleRun ? decideOnce() : decide(jobsOf(trials, [...running.values()]), schedule);
        if (a.type !== 'start' && a.type !== 'promote') break;
        const trial = trials[a.trial] as TrialRecord;
        const rung = a.type === 'start' ? 0 : a.rung;
        const key = `${a.trial}:${rung}`;
        const done = (singleRun ? runOnce(trial) : runJob(trial, rung)).finally(() => {
          running.delete(key);
          save();
        });
        running.set(key, { trial: a.trial, rung, done });
        save();
      }
      if (running.size === 0) {
        over = !signal.aborted;
        break;
      }
      await Promise.race([...running.values()].map((r) => r.done));
    }
  } finally {
    await Promise.allSettled([...running.values()].map((r) => r.done));
    await executor.close();
    // An error out of the loop (say, study.json not writable) also leaves a resumable study.
    study.status = over ? 'complete' : 'interrupted';
    save();
  }
  const files = await writeStudyOutputs(opts.outDir, study);
  return { study, files };
}
