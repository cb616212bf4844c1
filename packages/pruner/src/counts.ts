import type { Rounding } from './config';

/** Snaps float noise (0.2 * 5 = 1.0000000000000002) to the integer or half it stands for. */
function snap(x: number): number {
  const h = Math.round(x * 2) / 2;
  return Math.abs(x - h) <= 1e-9 * Math.max(1, Math.abs(x)) ? h : x;
}

/** Integer part of a non-negative count by the rounding rule ('round': halves up). */
export function roundCount(x: number, rounding: Rounding): number {
  const s = snap(x);
  return rounding === 'ceil' ? Math.ceil(s) : Math.floor(s + 0.5);
}

/** How many of `remaining` weights one round at `rate` prunes. */
export function pruneCount(rate: number, remaining: number, rounding: Rounding): number {
  return Math.min(remaining, roundCount(rate * remaining, rounding));
}

/** Weights left after `rounds` iterative rounds at `rate`, counted round by round. */
export function remainingAfter(remaining: number, rate: number, rounds: number, rounding: Rounding): number {
  let r = remaining;
  for (let i = 0; i < rounds; i++) r -= pruneCount(rate, r, rounding);
  return r;
}

/** Weights a one-shot `target` (fraction of `total` kept) leaves; 'ceil' prunes up, so keeps down. */
export function keepCount(target: number, total: number, rounding: Rounding): number {
  const s = snap(target * total);
  return rounding === 'ceil' ? Math.floor(s) : Math.floor(s + 0.5);
}
