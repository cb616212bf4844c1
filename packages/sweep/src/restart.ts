import { ashaNext } from './asha';
import { objectiveCurve, objectiveValue } from './objective';
import { jobsOf, type RungResult, type TrialRecord } from './state';
import { shaNext, type Schedule } from './successive-halving';
import { runTrial, type SweepMode, type TrialContext } from './trial';

/**
 * The `restart` mode (the default): the pruner (SHA or ASHA) decides at rung boundaries which
 * trial trains next at which budget, and every trial-rung is a run of its own. A promoted trial
 * trains again from its start at the larger budget (another config, another cache key): the
 * trainer cannot resume its optimizer state from a checkpoint, so nothing here pretends to
 * continue a run.
 */
export function restartMode(ctx: TrialContext): SweepMode {
  const { pruner, objective } = ctx.space;
  const schedule: Schedule = { trials: ctx.trials.length, rungs: ctx.budgets.length, eta: pruner.eta, direction: objective.direction };
  const decide = pruner.type === 'asha' ? ashaNext : shaNext;
  return {
    next: (running) => decide(jobsOf(ctx.trials, running), schedule),
    run: (trial, rung) => runRung(ctx, trial, rung),
  };
}

/**
 * Trains one trial at one rung's budget and records the objective (or the error) on the trial.
 * Returns the budget when some stage was computed, 0 when all were cache hits; an interrupted
 * run is not recorded (a resumed study reruns it, its finished stages as cache hits).
 */
export async function runRung(ctx: TrialContext, trial: TrialRecord, rung: number): Promise<number> {
  const budget = ctx.budgets[rung] as number;
  const { stage, metric } = ctx.space.objective;
  ctx.emit({ type: 'trial', trial: trial.trial, rung, budget, params: trial.params, state: 'running' });
  const t0 = Date.now();
  const run = await runTrial(ctx, trial, budget);
  if (run.interrupted) return 0;
  let value: number | null = null;
  let error = run.error;
  let curve: Array<[number, number]> | undefined;
  if (run.metrics) {
    value = objectiveValue(run.metrics, metric);
    curve = objectiveCurve(run.metrics, metric);
    if (value === null) error = `${stage}: no finite ${metric} in its metrics`;
  }
  const result: RungResult = {
    rung,
    budget,
    value,
    ...(error ? { error } : {}),
    ...(curve ? { curve } : {}),
    seq: ctx.nextSeq(),
    durationMs: Date.now() - t0,
    ran: run.ran,
    cached: run.cached,
    finishedAt: new Date().toISOString(),
  };
  trial.rungs.push(result);
  ctx.emit({ type: 'trial', trial: trial.trial, rung, budget, params: trial.params, state: value === null ? 'failed' : 'done', result });
  return run.ran > 0 ? budget : 0;
}
