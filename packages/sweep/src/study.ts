import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { loadPipeline, type ArtifactStore, type Executor, type Registry, type RunEvent } from '@lth/pipeline';
import { writeStudyOutputs } from './outputs';
import { restartMode } from './restart';
import { sampleTrials, type TrialParams } from './sampler';
import { singleRunMode } from './single-run';
import { SharedSlots } from './slots';
import { checkSpaceAgainst, type LoadedSpace } from './space';
import { bestOf, computeOf, readStudy, settleStates, spaceHash, writeStudy, type StudyFile, type TrialRecord } from './state';
import { rungBudgets } from './successive-halving';
import type { SweepEvent, SweepMode, TrialContext } from './trial';

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

export interface SweepResult {
  study: StudyFile;
  files: { study: string; trials: string; html: string };
}

/**
 * Runs (or resumes) a study: trials are the pipeline with the swept params and the budget
 * param overridden (`--set`), sharing one cache, so stages that do not depend on the swept
 * params (data, init) are computed once for the whole study. How trials run is the mode's:
 * `restart` (restart.ts) runs every trial-rung from the start, as the pruner (SHA or ASHA)
 * decides at rung boundaries; `single-run` (single-run.ts) runs each trial once at the full
 * budget and the pruner stops it while it runs.
 */
export async function runSweep(opts: SweepOptions): Promise<SweepResult> {
  const study = openStudy(opts);
  const mode = study.singleRun ? singleRunMode(study.ctx) : restartMode(study.ctx);
  mkdirSync(opts.outDir, { recursive: true });
  study.ctx.emit({
    type: 'start',
    budgets: study.file.budgets,
    trials: study.file.trials.length,
    resumed: study.file.trials.reduce((a, t) => a + t.rungs.length, 0),
  });
  await runTrials(study, mode);
  const files = await writeStudyOutputs(opts.outDir, study.file);
  return { study: study.file, files };
}

/** A study being run: study.json's content and what its trial runs share and count. */
interface OpenStudy {
  file: StudyFile;
  ctx: TrialContext;
  outDir: string;
  singleRun: boolean;
  /** Budget computed by earlier invocations of a resumed study, and by this one. */
  computedBefore: number;
  computedNow: number;
}

/** Checks the space against the pipeline, samples the trials and takes over what a previous invocation finished. */
function openStudy(opts: SweepOptions): OpenStudy {
  const { space } = opts.space;
  const base = loadPipeline(opts.pipelineFile, { registry: opts.registry });
  const metricsPort = checkSpaceAgainst(opts.space, base);
  const p = space.pruner;
  const budgets =
    p.type === 'none' ? [p.maxBudget ?? Number(base.params[p.budgetParam] ?? 0)] : rungBudgets(p.minBudget as number, p.maxBudget as number, p.eta);
  const params = sampleTrials(space);
  const hash = spaceHash(space, resolve(opts.pipelineFile), params);
  const old = readStudy(opts.outDir, hash, opts.resume ?? 'auto');
  const singleRun = p.mode === 'single-run';
  const trials = params.map((pr, i) => resumedTrial(i, pr, old?.trials[i], singleRun));
  let seq = Math.max(0, ...trials.flatMap((t) => t.rungs.map((r) => r.seq + 1)));
  const computedBefore = old?.compute.budgetComputed ?? 0;
  const file: StudyFile = {
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
  const ctx: TrialContext = {
    pipelineFile: opts.pipelineFile,
    registry: opts.registry,
    store: opts.store,
    executor: new SharedSlots(opts.executor),
    space,
    budgets,
    metricsPort,
    signal: opts.signal ?? new AbortController().signal,
    trials,
    nextSeq: () => seq++,
    emit: opts.onEvent ?? (() => {}),
    onRunEvent: opts.onRunEvent,
  };
  return { file, ctx, outDir: opts.outDir, singleRun, computedBefore, computedNow: 0 };
}

/**
 * Trial i as a resumed study keeps it: its finished trial-rungs. single-run: only a trial whose
 * run ended counts; one interrupted mid-run is run again.
 */
function resumedTrial(i: number, params: TrialParams, old: TrialRecord | undefined, singleRun: boolean): TrialRecord {
  const keep = old !== undefined && !(singleRun && old.trained === undefined);
  return { trial: i, params, state: 'pending', rungs: keep ? old.rungs : [], ...(keep && old.trained !== undefined ? { trained: old.trained } : {}) };
}

/**
 * Keeps up to `parallel` trial-rungs running, as the mode decides, until it says done or the
 * study is interrupted; study.json is rewritten whenever one starts or ends, and at the end
 * (an error out of the loop, say study.json not writable, also leaves a resumable study).
 */
async function runTrials(study: OpenStudy, mode: SweepMode): Promise<void> {
  const { ctx } = study;
  const running = new Map<string, { trial: number; rung: number; done: Promise<void> }>();
  const save = () => saveStudy(study, new Set([...running.values()].map((r) => r.trial)));
  let over = false;
  try {
    for (;;) {
      while (!ctx.signal.aborted && running.size < ctx.space.parallel) {
        const a = mode.next([...running.values()]);
        if (a.type !== 'start' && a.type !== 'promote') break;
        const rung = a.type === 'start' ? 0 : a.rung;
        const key = `${a.trial}:${rung}`;
        const done = mode
          .run(study.file.trials[a.trial] as TrialRecord, rung)
          .then((computed) => {
            study.computedNow += computed;
          })
          .finally(() => {
            running.delete(key);
            save();
          });
        running.set(key, { trial: a.trial, rung, done });
        save();
      }
      if (running.size === 0) {
        over = !ctx.signal.aborted;
        break;
      }
      await Promise.race([...running.values()].map((r) => r.done));
    }
  } finally {
    await Promise.allSettled([...running.values()].map((r) => r.done));
    await ctx.executor.close();
    study.file.status = over ? 'complete' : 'interrupted';
    save();
  }
}

/** Rewrites study.json: the trials' states, the compute and the best trial as of now. */
function saveStudy(study: OpenStudy, running: ReadonlySet<number>): void {
  const { file, ctx } = study;
  const top = ctx.budgets.length - 1;
  // single-run decisions are final when taken: a stopped trial is pruned at once.
  settleStates(file.trials, top, running, file.status === 'complete' || study.singleRun);
  file.updatedAt = new Date().toISOString();
  file.compute = computeOf(file.trials, ctx.budgets[top] as number, study.computedBefore, study.computedNow, study.singleRun);
  file.best = bestOf(file.trials, ctx.space.objective.direction);
  writeStudy(study.outDir, file);
}
