import { createRng } from '@lth/random';
import type { ParamSpace, SweepSpace } from './space';

export type ParamValue = string | number | boolean;
export type TrialParams = Record<string, ParamValue>;

/** The values a parameter takes on a grid (int: every step; continuous: `points` values, log-spaced for loguniform). */
export function gridValues(p: ParamSpace): ParamValue[] {
  switch (p.type) {
    case 'choice':
      return [...p.values];
    case 'int': {
      const out: number[] = [];
      for (let v = p.low; v <= p.high; v += p.step) out.push(v);
      return out;
    }
    case 'uniform':
    case 'loguniform': {
      const n = p.points ?? 2;
      const [lo, hi] = p.type === 'loguniform' ? [Math.log(p.low), Math.log(p.high)] : [p.low, p.high];
      return Array.from({ length: n }, (_, i) => {
        const x = lo + ((hi - lo) * i) / (n - 1);
        return tidy(p.type === 'loguniform' ? Math.exp(x) : x);
      });
    }
  }
}

/** Every combination, the first parameter varying slowest (the order of the space file). */
export function gridTrials(space: SweepSpace): TrialParams[] {
  let out: TrialParams[] = [{}];
  for (const [name, p] of Object.entries(space.params)) out = out.flatMap((t) => gridValues(p).map((v) => ({ ...t, [name]: v })));
  return out;
}

/**
 * One draw. Values keep 6 significant digits: they become `--set` values, cache-key configs
 * and table cells, and 0.0012345678901 adds nothing over 0.00123457 but noise in names.
 */
export function sampleParam(p: ParamSpace, u: number): ParamValue {
  switch (p.type) {
    case 'uniform':
      return tidy(p.low + (p.high - p.low) * u);
    case 'loguniform':
      return tidy(Math.exp(Math.log(p.low) + (Math.log(p.high) - Math.log(p.low)) * u));
    case 'int': {
      const steps = Math.floor((p.high - p.low) / p.step) + 1;
      return p.low + p.step * Math.min(steps - 1, Math.floor(u * steps));
    }
    case 'choice':
      return p.values[Math.min(p.values.length - 1, Math.floor(u * p.values.length))] as ParamValue;
  }
}

function tidy(x: number): number {
  return Number(x.toPrecision(6));
}

/**
 * The study's trials, a pure function of the space. Random: one stream `sweep/<seed>` drawn
 * trial by trial, parameter by parameter in file order, so trial i's params do not depend on
 * how many trials there are and a resumed study gets the same ones. (Not one stream per trial:
 * alea's first draws from similar seeds such as `sweep/0/1`, `sweep/0/2` are nearly equal.)
 * Grid: the first `trials` combinations.
 */
export function sampleTrials(space: SweepSpace): TrialParams[] {
  if (space.sampler === 'grid') {
    const all = gridTrials(space);
    return all.slice(0, Math.min(all.length, space.trials ?? all.length));
  }
  const rng = createRng('sweep', space.seed);
  return Array.from({ length: space.trials ?? 10 }, () => {
    const t: TrialParams = {};
    for (const [name, p] of Object.entries(space.params)) t[name] = sampleParam(p, rng.next());
    return t;
  });
}
