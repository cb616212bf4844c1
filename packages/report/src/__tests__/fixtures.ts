import type { Metrics, MetricRow, Sparsity } from '@lth/artifacts';
import { summarizeSparsity } from '@lth/artifacts';

/**
 * A hand-made training run evaluated at iterations 0, 100, ..., 400:
 *  validation loss = 1 + 0.1 * |k - esIndex|   (minimum at iteration 100 * esIndex)
 *  test accuracy   = base + 0.01 * k           (so at early stop: base + 0.01 * esIndex; final: base + 0.04)
 *  train accuracy  = base + 0.05 + 0.002 * k   (final: base + 0.058)
 */
export function run(opts: { esIndex: number; base: number; remaining?: number; metaEarlyStop?: boolean; backend?: string; durationMs?: number }): Metrics {
  const rows: MetricRow[] = [];
  for (let k = 0; k <= 4; k++) {
    const iteration = k * 100;
    rows.push({ iteration, split: 'train', loss: 0.5 - 0.05 * k, accuracy: opts.base + 0.05 + 0.002 * k });
    rows.push({ iteration, split: 'validation', loss: 1 + 0.1 * Math.abs(k - opts.esIndex), accuracy: opts.base + 0.005 * k });
    rows.push({ iteration, split: 'test', loss: 1 - 0.1 * k, accuracy: opts.base + 0.01 * k });
  }
  const meta: Metrics['meta'] = { iterations: 400, backend: opts.backend ?? 'cpu', durationMs: opts.durationMs ?? 1000 };
  if (opts.remaining !== undefined) meta.remaining = opts.remaining;
  if (opts.metaEarlyStop) {
    meta.earlyStop = {
      iteration: opts.esIndex * 100,
      validationLoss: 1,
      validationAccuracy: opts.base + 0.005 * opts.esIndex,
      testAccuracy: opts.base + 0.01 * opts.esIndex,
    };
  }
  return { meta, rows };
}

/** A two-layer mask with the given fraction remaining (1000 prunable weights). */
export function sparsity(fraction: number): Sparsity {
  const a = Math.round(800 * fraction);
  const b = Math.round(1000 * fraction) - a;
  return summarizeSparsity([
    { layer: 'fc1', role: 'fc', total: 800, remaining: a },
    { layer: 'fc2', role: 'output', total: 200, remaining: b },
  ]);
}

export const PM = [1, 0.8, 0.64, 0.512];

/**
 * The standard scenario: 4 rounds (0 = dense), 2 seeds, seed-major lists.
 * Ticket seed s, round r: esIndex = 4 - r (except seed 1, round 3: 3), base = 0.90 + 0.01 r + 0.02 s.
 * Reinit seed s, round r (1..3): esIndex = 4, base = 0.88 - 0.02 r + 0.01 s.
 * Random pruning seed s, round r (1..3): esIndex = 4, base = 0.87 - 0.03 r.
 */
export function scenario(opts: { remainingOnTickets?: boolean } = {}) {
  const tickets: Metrics[] = [];
  for (let s = 0; s < 2; s++) {
    for (let r = 0; r < 4; r++) {
      const es = s === 1 && r === 3 ? 3 : 4 - r;
      tickets.push(
        run({ esIndex: es, base: 0.9 + 0.01 * r + 0.02 * s, metaEarlyStop: r % 2 === 0, ...(opts.remainingOnTickets === false ? {} : { remaining: PM[r] }) }),
      );
    }
  }
  const reinit: Metrics[] = [];
  const randomPrune: Metrics[] = [];
  for (let s = 0; s < 2; s++) {
    for (let r = 1; r < 4; r++) {
      reinit.push(run({ esIndex: 4, base: 0.88 - 0.02 * r + 0.01 * s }));
      randomPrune.push(run({ esIndex: 4, base: 0.87 - 0.03 * r, backend: 'wasm' }));
    }
  }
  return { tickets, reinit, randomPrune };
}
