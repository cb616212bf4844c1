import type { Metrics, Sparsity } from '@lth/artifacts';
import type { ReportConfig } from './config';

/** A variant's part in the comparison: the winning tickets, a control, or another pipeline. */
export type VariantRole = 'ticket' | 'control' | 'compare';
export interface Variant {
  label: string;
  role: VariantRole;
}

/** One training run placed in the experiment: which variant, round and seed, and its Pm. */
export interface RunPoint {
  variant: string;
  round: number;
  seed: number;
  /** Fraction of prunable weights remaining (1 for the dense network). */
  pm: number;
  metrics: Metrics;
  /** Where it came from, for error messages: e.g. 'tickets[3]'. */
  source: string;
}

/** The report/lottery stage's inputs, as lists in the order a pipeline's foreach collects them. */
export interface LotteryInputs {
  /** Trained tickets per round. Starts with the dense network (round 0) unless `dense` is given. */
  tickets: Metrics[];
  /** The dense network (round 0, Pm = 1), one run per seed; shared by every variant. */
  dense?: Metrics[] | undefined;
  /** The mask sparsity of each ticket round, for Pm when metrics meta.remaining is missing. */
  ticketSparsity?: Sparsity[] | undefined;
  /** Random re-initialization control, rounds 1..n (same masks as the tickets). */
  reinit?: Metrics[] | undefined;
  /** Random pruning control (random masks of the tickets' per-layer sparsity), rounds 1..n. */
  randomPrune?: Metrics[] | undefined;
  /** Other pipelines (e.g. one-shot), one equal part per label in config labels.compare. */
  compare?: Metrics[] | undefined;
}

export interface CollectedRuns {
  variants: Variant[];
  runs: RunPoint[];
  /** Things that look mis-wired but do not stop the report; shown in it and logged. */
  warnings: string[];
}

type Place = { seed: number; index: number };

/** Splits a list into (seed, index-in-seed) places following config.order. */
function places(port: string, n: number, seeds: number, order: ReportConfig['order']): { perSeed: number; at: Place[] } {
  if (n % seeds !== 0) {
    throw new Error(`report/lottery: input '${port}' has ${n} runs, not a multiple of config.seeds = ${seeds}`);
  }
  const perSeed = n / seeds;
  const at = Array.from({ length: n }, (_, i) =>
    order === 'seed-major' ? { seed: Math.floor(i / perSeed), index: i % perSeed } : { seed: i % seeds, index: Math.floor(i / seeds) },
  );
  return { perSeed, at };
}

/**
 * Pm of each (seed, round index) of the ticket list from its sparsity list. Sparsity lists
 * are aligned to the END of the ticket list: one artifact per pruned round, so when the
 * ticket list starts with the dense network the sparsity list is one shorter (offset by one)
 * and the dense round keeps Pm = 1. A list with one entry per round per seed follows
 * config.order; a list with one entry per round is shared by all seeds.
 */
function sparsityPm(list: Sparsity[], roundsPerSeed: number, cfg: ReportConfig): (seed: number, index: number) => number | undefined {
  const n = list.length;
  const seeds = cfg.seeds;
  const fits = (l: number) => l === roundsPerSeed || l === roundsPerSeed - 1;
  let lookup: (seed: number, k: number) => Sparsity | undefined;
  let len: number;
  if (n % seeds === 0 && fits(n / seeds)) {
    len = n / seeds;
    const { at } = places('ticketSparsity', n, seeds, cfg.order);
    const grid = new Map(at.map((p, i) => [`${p.seed}:${p.index}`, list[i] as Sparsity]));
    lookup = (seed, k) => grid.get(`${seed}:${k}`);
  } else if (fits(n)) {
    len = n;
    lookup = (_seed, k) => list[k];
  } else {
    throw new Error(
      `report/lottery: input 'ticketSparsity' has ${n} artifacts; with ${roundsPerSeed} ticket rounds per seed and ` +
        `${seeds} seed(s) it must hold ${roundsPerSeed} or ${roundsPerSeed - 1} per seed (or per round, shared by seeds)`,
    );
  }
  const offset = roundsPerSeed - len;
  return (seed, index) => (index < offset ? undefined : lookup(seed, index - offset)?.meta.fraction);
}

function labelled(label: string, used: Set<string>): string {
  if (used.has(label)) throw new Error(`report/lottery: variant label '${label}' is used twice; labels must be distinct`);
  used.add(label);
  return label;
}

/**
 * Places every run of the inputs in (variant, round, seed) and finds its Pm.
 *
 * Rounds: `tickets` starts at round 0 (the dense network) unless `dense` is wired, in which
 * case it starts at round 1 and `dense` is round 0. A list whose first run says it is pruned
 * (meta.remaining < 1) also starts at round 1: wiring `round[*].train` alone then still
 * numbers the rounds right. Controls always start at round 1. Each compared pipeline follows
 * the tickets' rule. Round 0 is shared: a variant whose list starts
 * at round 1 gets the dense runs (or the tickets' round 0) as its round 0, so every curve
 * starts at Pm = 1.
 *
 * Pm, first that applies: metrics meta.remaining; for tickets the aligned `ticketSparsity`;
 * for controls the tickets' Pm of the same round and seed (same masks / same per-layer
 * sparsity); round 0 is 1; config.rate gives (1 - rate)^round. Otherwise it is an error.
 */
export function collectRuns(inputs: LotteryInputs, cfg: ReportConfig): CollectedRuns {
  const { seeds, order } = cfg;
  const used = new Set<string>();
  const warnings: string[] = [];
  const variants: Variant[] = [];
  const runs: RunPoint[] = [];
  // No tickets with the dense runs wired is a pipeline run with zero rounds (rounds: 0, a
  // quick look at the dense network): the report is its round 0.
  if (inputs.tickets.length === 0 && !inputs.dense?.length) throw new Error("report/lottery: input 'tickets' is empty and no 'dense' runs are wired");

  const denseRuns: RunPoint[] = [];
  const ticketLabel = labelled(cfg.labels.tickets, used);
  if (inputs.dense && inputs.dense.length > 0) {
    if (inputs.dense.length !== seeds) {
      throw new Error(`report/lottery: input 'dense' has ${inputs.dense.length} runs; expected one per seed (config.seeds = ${seeds})`);
    }
    inputs.dense.forEach((m, seed) =>
      denseRuns.push({ variant: ticketLabel, round: 0, seed, pm: m.meta.remaining ?? 1, metrics: m, source: `dense[${seed}]` }),
    );
  }
  const hasDense = denseRuns.length > 0;
  const fallback = (round: number) => (round === 0 ? 1 : cfg.rate !== undefined ? (1 - cfg.rate) ** round : undefined);
  const missingPm = (source: string, round: number, how: string) =>
    new Error(`report/lottery: ${source} (round ${round}): Pm unknown: metrics meta.remaining is missing${how}`);

  // Tickets.
  variants.push({ label: ticketLabel, role: 'ticket' });
  runs.push(...denseRuns);
  const t = places('tickets', inputs.tickets.length, seeds, order);
  const startsPruned = (list: Metrics[], i = 0) => (list[i]?.meta.remaining ?? 1) < 1;
  const first = hasDense || startsPruned(inputs.tickets) ? 1 : 0;
  const spPm = inputs.ticketSparsity?.length ? sparsityPm(inputs.ticketSparsity, t.perSeed, cfg) : () => undefined;
  const ticketPm = new Map<string, number>();
  inputs.tickets.forEach((m, i) => {
    const p = t.at[i] as Place;
    const round = first + p.index;
    const source = `tickets[${i}]`;
    const pm = m.meta.remaining ?? spPm(p.seed, p.index) ?? fallback(round);
    if (pm === undefined) throw missingPm(source, round, ', no ticketSparsity covers it and config.rate is not set');
    ticketPm.set(`${p.seed}:${round}`, pm);
    runs.push({ variant: ticketLabel, round, seed: p.seed, pm, metrics: m, source });
  });
  const round0 = runs.filter((r) => r.variant === ticketLabel && r.round === 0);
  // Iterative pruning only removes weights: a rise in Pm along one seed's list means the list
  // holds something else, most often several seeds without config.seeds.
  for (let seed = 0; seed < seeds; seed++) {
    const mine = runs.filter((r) => r.variant === ticketLabel && r.seed === seed).sort((a, b) => a.round - b.round);
    mine.forEach((r, i) => {
      const prev = mine[i - 1];
      if (prev && r.pm > prev.pm * (1 + 1e-9)) {
        warnings.push(
          `Pm rises from ${prev.pm} (${prev.source}, round ${prev.round}) to ${r.pm} (${r.source}, round ${r.round}); ` +
            `iterative pruning never adds weights back: are several seeds in one list without config.seeds?`,
        );
      }
    });
  }

  // Controls: rounds 1..n, Pm from the ticket of the same round.
  const controls: [keyof LotteryInputs, string][] = [
    ['reinit', cfg.labels.reinit],
    ['randomPrune', cfg.labels.randomPrune],
  ];
  for (const [port, name] of controls) {
    const list = inputs[port] as Metrics[] | undefined;
    if (!list || list.length === 0) continue;
    const label = labelled(name, used);
    variants.push({ label, role: 'control' });
    runs.push(...round0.map((r) => ({ ...r, variant: label })));
    const c = places(port, list.length, seeds, order);
    list.forEach((m, i) => {
      const p = c.at[i] as Place;
      const round = 1 + p.index;
      const source = `${port}[${i}]`;
      const pm = m.meta.remaining ?? ticketPm.get(`${p.seed}:${round}`) ?? fallback(round);
      if (pm === undefined) throw missingPm(source, round, ` and tickets have no round ${round} for seed ${p.seed}`);
      runs.push({ variant: label, round, seed: p.seed, pm, metrics: m, source });
    });
  }

  // Compared pipelines: equal consecutive parts, one per label.
  const compare = inputs.compare ?? [];
  if (compare.length > 0) {
    const labels = cfg.labels.compare;
    if (compare.length % labels.length !== 0) {
      throw new Error(
        `report/lottery: input 'compare' has ${compare.length} runs, which does not split into ${labels.length} equal parts (config.labels.compare)`,
      );
    }
    const size = compare.length / labels.length;
    labels.forEach((name, part) => {
      const label = labelled(name, used);
      variants.push({ label, role: 'compare' });
      const slice = compare.slice(part * size, (part + 1) * size);
      const start = hasDense || startsPruned(slice) ? 1 : 0;
      if (start === 1) runs.push(...round0.map((r) => ({ ...r, variant: label })));
      const c = places(`compare (part '${label}')`, slice.length, seeds, order);
      slice.forEach((m, j) => {
        const p = c.at[j] as Place;
        const round = start + p.index;
        const source = `compare[${part * size + j}] ('${label}')`;
        const pm = m.meta.remaining ?? fallback(round);
        if (pm === undefined) throw missingPm(source, round, ' and config.rate is not set');
        runs.push({ variant: label, round, seed: p.seed, pm, metrics: m, source });
      });
    });
  }
  return { variants, runs, warnings };
}
