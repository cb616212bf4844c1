import { roundCount } from './limits';

/** The rounds of a `foreach` loop variable: a count N (1..N) or a range "FROM..TO"; or what is wrong. */
export function parseRange(v: unknown): { from: number; to: number } | string {
  if (typeof v === 'number' && Number.isInteger(v)) {
    const n = roundCount(1, v, `count ${v}`);
    return typeof n === 'string' ? n : { from: 1, to: v };
  }
  const m = typeof v === 'string' ? /^\s*(-?\d+)\s*\.\.\s*(-?\d+)\s*$/.exec(v) : null;
  if (!m) return `expected a range "FROM..TO" of integers or a count, got ${JSON.stringify(v)}`;
  const from = Number(m[1]);
  const to = Number(m[2]);
  if (to < from - 1) return `empty range ${from}..${to}: TO must be >= FROM - 1`;
  const n = roundCount(from, to, `range ${JSON.stringify(v)}`);
  return typeof n === 'string' ? n : { from, to };
}
