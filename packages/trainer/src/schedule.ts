/**
 * The learning rate of the step that takes the weights from iteration `it` to `it + 1`, as
 * open_lth computes it: the product of a piecewise factor (gamma to the number of milestones
 * already reached, so the drop applies from the milestone iteration itself) and a linear warmup
 * factor min(1, it / warmup). Like open_lth, the first warmup step therefore has lr 0.
 */
export function learningRate(baseLr: number, it: number, plan: { milestones: readonly number[]; gamma?: number; warmup: number }): number {
  let factor = 1;
  if (plan.milestones.length) {
    let reached = 0;
    for (const m of plan.milestones) if (m <= it) reached++;
    factor *= (plan.gamma ?? 0.1) ** reached;
  }
  if (plan.warmup > 0) factor *= Math.min(1, it / plan.warmup);
  return baseLr * factor;
}
