import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { canonicalJson, hashBytes } from '@lth/artifacts';
import { UsageError } from '@lth/pipeline';
import type { TrialParams } from './sampler';
import type { Job } from './successive-halving';
import type { SweepSpace } from './space';

/** One trial trained at one rung's budget. Only finished trial-rungs are stored (an interrupted one is redone on resume). */
export interface RungResult {
  rung: number;
  budget: number;
  /** The objective; null when the run failed or the metric is missing (NaN). */
  value: number | null;
  error?: string;
  /** The objective's split and field at each evaluation of this run: [iteration, value]. */
  curve?: Array<[number, number]>;
  /** single-run mode: the evaluation (iteration) the value was taken at, the first at or past the budget. */
  at?: number;
  /** Order of completion over the whole study (for best-so-far). */
  seq: number;
  durationMs: number;
  /** Stages computed / taken from the cache for this trial-rung. */
  ran: number;
  cached: number;
  finishedAt: string;
}

export type TrialStateName = 'pending' | 'running' | 'complete' | 'pruned' | 'failed';

export interface TrialRecord {
  trial: number;
  params: TrialParams;
  state: TrialStateName;
  rungs: RungResult[];
  /**
   * single-run mode: set once the trial's one run has ended: the iterations it trained (the full
   * budget, or the evaluation that stopped it). Unset: not run yet, or interrupted (run again).
   */
  trained?: number;
}

export interface Compute {
  /** Σ budget over every finished trial-rung: the training iterations the study's results stand for. */
  budgetUsed: number;
  /** Σ budget over trial-rungs whose stages were computed (not all cache hits), over all invocations. */
  budgetComputed: number;
  /** Every trial trained to the full budget once. */
  budgetFull: number;
}

export interface StudyFile {
  version: 1;
  name: string;
  pipeline: string;
  spaceFile: string;
  space: SweepSpace;
  /** sha256 of the canonical space (but `parallel`), the pipeline path and the sampled params: a resumed study must match. */
  spaceHash: string;
  seed: number;
  budgets: number[];
  status: 'running' | 'complete' | 'interrupted';
  startedAt: string;
  updatedAt: string;
  trials: TrialRecord[];
  compute: Compute;
  best?: { trial: number; params: TrialParams; budget: number; value: number };
}

export function spaceHash(space: SweepSpace, pipeline: string, params: readonly TrialParams[]): string {
  // How many trials run at once, and the description, do not change what the trials are.
  const { parallel: _parallel, description: _description, ...rest } = space;
  return hashBytes(Buffer.from(canonicalJson({ space: rest, pipeline, params })));
}

export const studyPath = (dir: string) => join(dir, 'study.json');

/**
 * A previous study in `dir` to resume, or undefined to start afresh. A study made with another
 * space or pipeline is refused rather than mixed in: its trial numbers mean other params.
 */
export function readStudy(dir: string, hash: string, mode: 'auto' | 'require' | 'fresh'): StudyFile | undefined {
  const file = studyPath(dir);
  if (mode === 'fresh' || !existsSync(file)) {
    if (mode === 'require') throw new UsageError(`--resume: no study to resume in ${dir} (no study.json)`);
    return undefined;
  }
  let s: StudyFile;
  try {
    s = JSON.parse(readFileSync(file, 'utf8')) as StudyFile;
  } catch (err) {
    throw new UsageError(`${file}: cannot read the study to resume: ${(err as Error).message}; use --fresh to start over`);
  }
  if (s.version !== 1 || s.spaceHash !== hash) {
    throw new UsageError(`${file}: this study was made with a different space or pipeline; use --fresh to start over, or --out for another directory`);
  }
  return s;
}

export function writeStudy(dir: string, s: StudyFile): void {
  mkdirSync(dir, { recursive: true });
  const tmp = join(dir, `.study.json.${process.pid}.tmp`);
  writeFileSync(tmp, `${JSON.stringify(s, null, 2)}\n`);
  renameSync(tmp, studyPath(dir));
}

/** The scheduler's view: finished trial-rungs plus the running ones. */
export function jobsOf(trials: readonly TrialRecord[], running: ReadonlyArray<{ trial: number; rung: number }>): Job[] {
  const jobs: Job[] = trials.flatMap((t) => t.rungs.map((r) => ({ trial: t.trial, rung: r.rung, done: true, value: r.value })));
  return [...jobs, ...running.map((r) => ({ ...r, done: false, value: null }))];
}

/**
 * Trial states: running, failed, complete (reached the top rung), pruned (below the top rung
 * once the study is over), or pending (not started, or waiting for a promotion decision in a
 * study that is still going or was interrupted).
 */
export function settleStates(trials: TrialRecord[], topRung: number, running: ReadonlySet<number>, over: boolean): void {
  for (const t of trials) {
    const last = t.rungs[t.rungs.length - 1];
    if (running.has(t.trial)) t.state = 'running';
    else if (!last) t.state = 'pending';
    else if (last.value === null) t.state = 'failed';
    else t.state = last.rung === topRung ? 'complete' : over ? 'pruned' : 'pending';
  }
}

export function computeOf(trials: readonly TrialRecord[], fullBudget: number, computedBefore: number, computedNow: number, singleRun = false): Compute {
  // Restarted rungs train again from zero, each for its budget; a single run trains once.
  const budgetUsed = singleRun ? trials.reduce((a, t) => a + (t.trained ?? 0), 0) : trials.reduce((a, t) => a + t.rungs.reduce((b, r) => b + r.budget, 0), 0);
  return { budgetUsed, budgetComputed: computedBefore + computedNow, budgetFull: trials.length * fullBudget };
}

/** Best trial at the highest rung any trial reached with a value (the full budget when some trial got there). */
export function bestOf(trials: readonly TrialRecord[], direction: 'maximize' | 'minimize'): StudyFile['best'] {
  let best: StudyFile['best'];
  for (const t of trials) {
    for (const r of t.rungs) {
      if (r.value === null) continue;
      const better = !best || r.budget > best.budget || (r.budget === best.budget && (direction === 'maximize' ? r.value > best.value : r.value < best.value));
      if (better) best = { trial: t.trial, params: t.params, budget: r.budget, value: r.value };
    }
  }
  return best;
}
