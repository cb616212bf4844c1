import type { MetricRow, Metrics } from '@lth/artifacts';
import type { RunEvent } from '@lth/pipeline';
import { earlyStopFrom } from '@lth/trainer';
import { objectiveCurve, objectiveValue } from './objective';
import type { RungResult, TrialRecord } from './state';
import { ranked, type Action, type Direction } from './successive-halving';
import { runTrial, type SweepMode, type TrialContext } from './trial';

/**
 * The `single-run` mode (`pruner.mode: single-run`, ASHA only), as Optuna's
 * SuccessiveHalvingPruner does: a trial trains once at the full budget; when an evaluation
 * reaches a rung's budget, its objective so far is compared with the values every trial reported
 * at that rung, and a trial outside the top 1/eta is stopped. A promoted trial simply goes on
 * with its own run, so no work is repeated. The decisions are pure functions (first below); the
 * rest wires them to the runs.
 */

/**
 * Optuna's rule (`_is_trial_promotable_to_next_rung`): among the n values of the rung (this
 * trial's included), continue when the value is at least as good as the floor(n / eta)-th best.
 * A running trial cannot wait for its rung to fill, so with fewer than eta values it continues
 * only when it is the best so far. Ties continue; a missing value (NaN, failed) never does.
 */
export function ashaContinues(value: number | null, competing: ReadonlyArray<number | null>, eta: number, direction: Direction): boolean {
  if (value === null) return false;
  const keep = Math.max(1, Math.floor(competing.length / eta));
  const order = ranked(
    competing.map((v, i) => ({ trial: i, rung: 0, done: true, value: v })),
    0,
    direction,
  );
  const threshold = order[keep - 1]?.value;
  if (threshold === null || threshold === undefined) return true;
  return direction === 'maximize' ? value >= threshold : value <= threshold;
}

/** An evaluation reported through progress (`{'validation.loss': .., ...}`) as metric rows. */
export function rowsFromValues(iteration: number, values: Readonly<Record<string, number>>): MetricRow[] {
  const rows: MetricRow[] = [];
  for (const split of ['train', 'validation', 'test'] as const) {
    const loss = values[`${split}.loss`];
    const accuracy = values[`${split}.accuracy`];
    if (loss === undefined && accuracy === undefined) continue;
    rows.push({ iteration, split, loss: loss ?? Number.NaN, accuracy: accuracy ?? Number.NaN });
  }
  return rows;
}

/**
 * The objective as if training had ended at `iteration`: from the evaluations up to it, with the
 * early-stopping point recomputed over those (minimum validation loss so far, as the trainer does).
 */
export function objectiveUpTo(rows: readonly MetricRow[], metric: string, iteration: number): number | null {
  const upTo = rows.filter((r) => r.iteration <= iteration);
  const earlyStop = earlyStopFrom(upTo);
  const m: Metrics = { meta: earlyStop ? { earlyStop } : {}, rows: upTo };
  return objectiveValue(m, metric);
}

/** The rungs (below the top) that an evaluation at `iteration` decides, given `judged` already decided. */
export function rungsReached(budgets: readonly number[], judged: number, iteration: number): number[] {
  const out: number[] = [];
  for (let k = judged; k < budgets.length - 1 && (budgets[k] as number) <= iteration; k++) out.push(k);
  return out;
}

/** The evaluations of a metrics artifact grouped by iteration, ascending (to replay a cached run). */
export function evaluations(m: Metrics): Array<{ iteration: number; rows: MetricRow[] }> {
  const by = new Map<number, MetricRow[]>();
  for (const r of m.rows) by.set(r.iteration, [...(by.get(r.iteration) ?? []), r]);
  return [...by.entries()].sort((a, b) => a[0] - b[0]).map(([iteration, rows]) => ({ iteration, rows }));
}

export function singleRunMode(ctx: TrialContext): SweepMode {
  return {
    next: (running) => nextSingleRun(ctx.trials, running),
    run: (trial) => runSingleRun(ctx, trial),
  };
}

/** Trials start in trial order and each runs once; the pruner acts inside the runs. */
export function nextSingleRun(trials: readonly TrialRecord[], running: ReadonlyArray<{ trial: number }>): Action {
  const busy = new Set(running.map((r) => r.trial));
  const next = trials.find((t) => t.trained === undefined && !busy.has(t.trial));
  return next ? { type: 'start', trial: next.trial } : running.length ? { type: 'wait' } : { type: 'done' };
}

/**
 * Runs one trial: the pipeline once, at the full budget. The objective stage's evaluations
 * (progress values) are judged rung by rung as they arrive, and a trial the pruner stops is
 * aborted (runTrial's own signal). A run whose stage reported no values (a cache hit, or a stage
 * that does not report) is judged afterwards from its metrics. Returns the iterations computed
 * in this process (0 for a cache hit); sets `trial.trained`, the iterations its results stand
 * for. Leaves the trial unrecorded when the study is interrupted.
 */
export async function runSingleRun(ctx: TrialContext, trial: TrialRecord): Promise<number> {
  const top = ctx.budgets.length - 1;
  const full = ctx.budgets[top] as number;
  trial.rungs = [];
  delete trial.trained;
  ctx.emit({ type: 'trial', trial: trial.trial, rung: top, budget: full, params: trial.params, state: 'running' });
  const judge = new RungJudge(ctx, trial);
  const run = await runTrial(ctx, trial, full, (e) => judge.live(e));
  if (run.interrupted) {
    trial.rungs = []; // not recorded: a resumed study runs the trial again
    return 0;
  }
  if (!run.stopped) {
    if (run.metrics) judge.replay(run.metrics);
    else judge.fail(run.error ?? `stage '${ctx.space.objective.stage}' has no metrics output`);
  }
  // The run's stage counts go on its last record; a stopped trial trained up to the evaluation
  // that stopped it (a worker process may take a few more steps before the abort reaches it).
  const last = trial.rungs[trial.rungs.length - 1] as RungResult;
  last.ran = run.ran;
  last.cached = run.cached;
  trial.trained = judge.stoppedAt ?? (run.error ? Math.max(0, judge.lastLive) : full);
  return run.objectiveRan || judge.lastLive >= 0 ? trial.trained : 0;
}

/** The rungs of one trial's run, judged in order as its evaluations arrive (live, or replayed from its metrics). */
class RungJudge {
  /** The evaluations seen so far. */
  private readonly rows: MetricRow[] = [];
  private readonly t0 = Date.now();
  private readonly top: number;
  /** The last evaluation judged while the run went on (-1: none). */
  lastLive = -1;
  /** The evaluation at which the pruner stopped the trial. */
  stoppedAt: number | undefined;

  constructor(
    private readonly ctx: TrialContext,
    private readonly trial: TrialRecord,
  ) {
    this.top = ctx.budgets.length - 1;
  }

  /** A run event: an evaluation of the objective stage is judged at once; 'stop' when the pruner stops the trial. */
  live(e: RunEvent): 'stop' | void {
    const p = e.type === 'progress' && e.id === this.ctx.space.objective.stage ? e.progress : undefined;
    // The last evaluation ends the run anyway: it is judged from the metrics, not aborted.
    if (!p?.values || p.iteration === undefined || p.iteration >= (this.ctx.budgets[this.top] as number) || this.stoppedAt !== undefined) return;
    this.rows.push(...rowsFromValues(p.iteration, p.values));
    this.lastLive = p.iteration;
    if (!this.judge(p.iteration)) return 'stop';
  }

  /** A completed run: the evaluations not seen live (all of them on a cache hit) in order, then the top rung from the metrics. */
  replay(metrics: Metrics): void {
    const { stage, metric } = this.ctx.space.objective;
    for (const ev of evaluations(metrics)) {
      if (ev.iteration <= this.lastLive) continue;
      this.rows.push(...ev.rows);
      if (!this.judge(ev.iteration)) return;
    }
    const value = objectiveValue(metrics, metric);
    const full = this.ctx.budgets[this.top] as number;
    const r = {
      ...this.result(this.top, value, full, value === null ? `${stage}: no finite ${metric} in its metrics` : undefined),
      curve: objectiveCurve(metrics, metric),
    };
    this.record(r, value === null ? 'failed' : 'done');
  }

  /** A run that ended without metrics: failed at the next rung to judge. */
  fail(error: string): void {
    this.record(this.result(Math.min(this.trial.rungs.length, this.top), null, Math.max(0, this.lastLive), error), 'failed');
  }

  /** Records the rungs an evaluation at `iteration` reaches; false when the pruner stops the trial. */
  private judge(iteration: number): boolean {
    const { stage, metric, direction } = this.ctx.space.objective;
    for (const k of rungsReached(this.ctx.budgets, this.trial.rungs.length, iteration)) {
      const value = objectiveUpTo(this.rows, metric, iteration);
      const r = this.result(k, value, iteration, value === null ? `${stage}: no finite ${metric} at iteration ${iteration}` : undefined);
      this.trial.rungs.push(r);
      // This trial's value is among them.
      const competing = this.ctx.trials.flatMap((t) => t.rungs.filter((x) => x.rung === k).map((x) => x.value));
      const go = ashaContinues(value, competing, this.ctx.space.pruner.eta, direction);
      this.announce(r, value === null ? 'failed' : go ? 'done' : 'pruned');
      if (!go) {
        this.stoppedAt = iteration;
        return false;
      }
    }
    return true;
  }

  /** A rung's result taken at the evaluation `at` (the run's stage counts go on its last record later). */
  private result(rung: number, value: number | null, at: number, error?: string): RungResult {
    return {
      rung,
      budget: this.ctx.budgets[rung] as number,
      value,
      ...(error ? { error } : {}),
      at,
      curve: objectiveCurve({ meta: {}, rows: this.rows.filter((r) => r.iteration <= at) }, this.ctx.space.objective.metric),
      seq: this.ctx.nextSeq(),
      durationMs: Date.now() - this.t0,
      ran: 0,
      cached: 0,
      finishedAt: new Date().toISOString(),
    };
  }

  private record(r: RungResult, state: 'done' | 'failed' | 'pruned'): void {
    this.trial.rungs.push(r);
    this.announce(r, state);
  }

  private announce(r: RungResult, state: 'done' | 'failed' | 'pruned'): void {
    this.ctx.emit({ type: 'trial', trial: this.trial.trial, rung: r.rung, budget: r.budget, params: this.trial.params, state, result: r });
  }
}
