import { defineStage, type AnyStageDef, type StageContext } from '@lth/artifacts';
import { ReportConfig } from './config';
import { reportInstability } from './instability-stage';
import { lotteryReport } from './report';

/**
 * report/lottery: the paper's plots and summary from every round's metrics.
 *
 * Wiring (see collectRuns in runs.ts for the exact alignment rules):
 *   tickets:        round[*].train        (or [dense, round[*].train] when `dense` is not wired)
 *   dense:          dense                 (optional; round 0, Pm = 1, one per seed)
 *   ticketSparsity: round[*].prune        (optional; for Pm when metrics meta.remaining is missing)
 *   reinit:         round[*].control      (optional; random re-initialization, rounds 1..n)
 *   randomPrune:    round[*].randomTrain  (optional; random pruning, rounds 1..n)
 *   compare:        another pipeline's runs (optional; one equal part per config.labels.compare)
 * Output `summary`: one row per (variant, round); report.html, report.md and the plots (.svg)
 * are written into ctx.outDir.
 */
export const reportLottery = defineStage({
  id: 'report/lottery',
  description: 'Summary table, plots (accuracy and early stop vs Pm, learning curves, train/test gap), HTML and Markdown report',
  config: ReportConfig,
  inputs: {
    tickets: { kind: 'metrics', many: true, description: 'trained tickets in round order (dense first unless `dense` is wired)' },
    dense: { kind: 'metrics', many: true, optional: true, description: 'the dense network (round 0), one per seed' },
    ticketSparsity: { kind: 'sparsity', many: true, optional: true, description: "each pruned round's mask sparsity" },
    reinit: { kind: 'metrics', many: true, optional: true, description: 'random re-initialization control, rounds 1..n' },
    randomPrune: { kind: 'metrics', many: true, optional: true, description: 'random pruning control, rounds 1..n' },
    compare: { kind: 'metrics', many: true, optional: true, description: 'other pipelines to compare, one part per labels.compare' },
  },
  outputs: {
    summary: { kind: 'table', description: 'one row per (variant, round): Pm, early stop, accuracies, seeds' },
  },
  async run(ctx, cfg, inputs) {
    const trainingMs = trainingTime(ctx.inputTimings);
    const r = await lotteryReport(inputs, cfg, {
      outDir: ctx.outDir,
      // The only impure fields, and only in the HTML/Markdown files: the summary table stays a
      // pure function of the inputs, so its content hash does not change between runs.
      runInfo: { generatedAt: new Date().toISOString(), ...(trainingMs !== undefined ? { trainingMs } : {}) },
    });
    for (const w of r.warnings) ctx.log(`report/lottery: warning: ${w}`);
    ctx.log(`report/lottery: ${r.table.rows.length} summary rows, wrote ${r.files.join(', ')}`);
    return { summary: r.table };
  },
});

const METRICS_PORTS = ['tickets', 'dense', 'reinit', 'randomPrune', 'compare'];

/**
 * The training runs' wall time, summed once per producing stage: the engine passes how long
 * each input's stage took (metrics artifacts hold no durations, so that reruns are identical).
 */
function trainingTime(timings: StageContext['inputTimings']): number | undefined {
  if (!timings) return undefined;
  const byStage = new Map<string, number>();
  for (const port of METRICS_PORTS) for (const t of timings[port] ?? []) byStage.set(t.stage, t.durationMs);
  return byStage.size ? [...byStage.values()].reduce((a, b) => a + b, 0) : undefined;
}

export const stages: AnyStageDef[] = [reportLottery, reportInstability];
