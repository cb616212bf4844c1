import type { TopLevelSpec } from 'vega-lite';
import { testCurve } from './analyze';
import type { ReportConfig } from './config';
import type { RunPoint, Variant } from './runs';
import type { SummaryRow } from './summary';

/** A plot of the report: its file name (without .svg), caption and Vega-Lite spec. */
export interface PlotSpec {
  name: string;
  title: string;
  caption: string;
  spec: TopLevelSpec;
  /** Data points drawn as symbols, and curves drawn as lines: what the tests count. */
  points: number;
  lines: number;
}

// Tableau-10: tickets first (blue), then controls and compared pipelines.
const PALETTE = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac'];
const WIDTH = 420;
const HEIGHT = 280;

function colorScale(variants: readonly Variant[]) {
  return { domain: variants.map((v) => v.label), range: variants.map((_, i) => PALETTE[i % PALETTE.length] as string) };
}

/** The Pm axis as in the paper: log scale, reversed so that sparser networks are to the right. */
function pmAxis(pms: number[]) {
  const distinct = [...new Set(pms)].sort((a, b) => b - a);
  // Label at most ~8 of the measured Pm values: they are the meaningful ticks, not powers of 10.
  const step = Math.max(1, Math.ceil(distinct.length / 8));
  const values = distinct.filter((_, i) => i % step === 0);
  return {
    field: 'pm',
    type: 'quantitative' as const,
    title: 'Pm: weights remaining (log scale)',
    scale: { type: 'log' as const, reverse: true, nice: false, padding: 12 },
    axis: { values, format: '.3~p', labelAngle: values.length > 5 ? -40 : 0, grid: true },
  };
}

const BASE = { $schema: 'https://vega.github.io/schema/vega-lite/v5.json', width: WIDTH, height: HEIGHT, background: 'white' } as const;
const CONFIG = { font: 'Helvetica, Arial, sans-serif', axis: { labelFontSize: 11, titleFontSize: 12 }, legend: { labelFontSize: 11, titleFontSize: 12 } };

interface Band {
  lo: number;
  hi: number;
}
function bands(r: SummaryRow, y: 'testAccuracy' | 'earlyStopIteration', mode: ReportConfig['errorBars']): Band | null {
  if (r.seeds < 2) return null;
  if (y === 'testAccuracy' && mode === 'std') {
    if (r.testAccuracy === null || r.testAccuracyStd === null) return null;
    return { lo: r.testAccuracy - r.testAccuracyStd, hi: r.testAccuracy + r.testAccuracyStd };
  }
  const lo = y === 'testAccuracy' ? r.testAccuracyMin : r.earlyStopIterationMin;
  const hi = y === 'testAccuracy' ? r.testAccuracyMax : r.earlyStopIterationMax;
  return lo === null || hi === null ? null : { lo, hi };
}

/** A metric vs Pm: one line per variant, a point per round, error bars across seeds. */
function versusPm(
  name: string,
  title: string,
  caption: string,
  rows: readonly SummaryRow[],
  variants: readonly Variant[],
  y: 'testAccuracy' | 'earlyStopIteration',
  yTitle: string,
  errorBars: ReportConfig['errorBars'],
): PlotSpec {
  const data = rows.filter((r) => r[y] !== null).map((r) => ({ variant: r.variant, pm: r.pm, round: r.round, seeds: r.seeds, y: r[y] }));
  const errs = rows.flatMap((r) => {
    const b = r[y] === null ? null : bands(r, y, errorBars);
    return b ? [{ variant: r.variant, pm: r.pm, ...b }] : [];
  });
  const x = pmAxis(data.map((d) => d.pm));
  const color = { field: 'variant', type: 'nominal' as const, title: 'variant', scale: colorScale(variants), legend: { orient: 'bottom' as const } };
  const yEnc = {
    field: 'y',
    type: 'quantitative' as const,
    title: yTitle,
    scale: { zero: y === 'earlyStopIteration' },
    axis: y === 'testAccuracy' ? { format: '.1%' } : { format: '~s' },
  };
  const layer: NonNullable<Extract<TopLevelSpec, { layer: unknown }>['layer']> = [
    { data: { values: data }, mark: { type: 'line', strokeWidth: 2 }, encoding: { x, y: yEnc, color } },
    { data: { values: data }, mark: { type: 'point', filled: true, size: 50, opacity: 1 }, encoding: { x, y: yEnc, color } },
  ];
  if (errs.length) {
    layer.push({
      data: { values: errs },
      mark: { type: 'rule', strokeWidth: 1.5 },
      encoding: { x, y: { field: 'lo', type: 'quantitative' }, y2: { field: 'hi' }, color },
    });
  }
  const lines = new Set(data.map((d) => d.variant)).size;
  return { name, title, caption, points: data.length, lines, spec: { ...BASE, title, config: CONFIG, layer } as TopLevelSpec };
}

/** The round of each variant whose Pm is nearest each target (log distance), without repeats. */
export function curveRounds(runs: readonly RunPoint[], variant: string, targets: readonly number[]): number[] {
  const byRound = new Map<number, number>();
  for (const r of runs) if (r.variant === variant && r.pm > 0) byRound.set(r.round, r.pm);
  const chosen = new Set<number>();
  for (const t of targets) {
    let best: [number, number] | undefined;
    for (const [round, pm] of byRound) {
      const d = Math.abs(Math.log(pm) - Math.log(t));
      if (!best || d < best[1]) best = [round, d];
    }
    if (best) chosen.add(best[0]);
  }
  return [...chosen].sort((a, b) => a - b);
}

const pct = (pm: number) => `${Number((pm * 100).toPrecision(3))}%`;

/** Test accuracy during training for selected Pm, one panel per variant (the paper's Figure 3). */
function learningCurves(runs: readonly RunPoint[], variants: readonly Variant[], targets: readonly number[]): PlotSpec {
  const data: { variant: string; round: number; pm: number; curve: string; iteration: number; accuracy: number }[] = [];
  let lines = 0;
  for (const v of variants) {
    for (const round of curveRounds(runs, v.label, targets)) {
      const group = runs.filter((r) => r.variant === v.label && r.round === round);
      const pm = group.reduce((a, r) => a + r.pm, 0) / group.length;
      // Mean over seeds at each iteration that the seeds evaluated.
      const acc = new Map<number, number[]>();
      for (const r of group) for (const p of testCurve(r.metrics)) acc.set(p.iteration, [...(acc.get(p.iteration) ?? []), p.accuracy]);
      const its = [...acc.keys()].sort((a, b) => a - b);
      if (its.length) lines++;
      for (const it of its) {
        const xs = acc.get(it) as number[];
        data.push({ variant: v.label, round, pm, curve: `Pm ${pct(pm)}`, iteration: it, accuracy: xs.reduce((a, b) => a + b, 0) / xs.length });
      }
    }
  }
  const curveOrder = [...new Map(data.map((d) => [d.curve, d.pm])).entries()].sort((a, b) => b[1] - a[1]).map(([c]) => c);
  const panels = new Set(data.map((d) => d.variant)).size;
  const title = 'Test accuracy during training';
  return {
    name: 'accuracy-over-iterations',
    title,
    caption: 'Test accuracy over training iterations for selected Pm (the round of each variant nearest each target), mean over seeds.',
    points: 0,
    lines,
    spec: {
      $schema: BASE.$schema,
      background: BASE.background,
      title,
      config: CONFIG,
      data: { values: data },
      facet: { field: 'variant', type: 'nominal', title: null, sort: variants.map((v) => v.label), header: { labelFontSize: 13 } },
      // Two panels a row keeps the plot as wide as the others in the report's 2-column grid.
      columns: 2,
      spec: {
        width: panels > 1 ? 200 : WIDTH,
        height: panels > 2 ? 130 : 200,
        mark: { type: 'line', strokeWidth: 1.6, interpolate: 'monotone' },
        encoding: {
          x: { field: 'iteration', type: 'quantitative', title: 'training iteration', axis: { format: '~s' } },
          y: { field: 'accuracy', type: 'quantitative', title: 'test accuracy', scale: { zero: false }, axis: { format: '.1%' } },
          color: { field: 'curve', type: 'nominal', title: 'Pm', sort: curveOrder, scale: { scheme: 'viridis' }, legend: { orient: 'right' } },
          detail: { field: 'round', type: 'ordinal' },
        },
      },
    } as unknown as TopLevelSpec,
  };
}

/** Final train and test accuracy vs Pm: the generalization gap (the paper's Figure 4/Appendix). */
function gapPlot(rows: readonly SummaryRow[], variants: readonly Variant[]): PlotSpec {
  const data = rows.flatMap((r) => [
    ...(r.finalTrainAccuracy === null ? [] : [{ variant: r.variant, pm: r.pm, split: 'train', accuracy: r.finalTrainAccuracy }]),
    ...(r.finalTestAccuracy === null ? [] : [{ variant: r.variant, pm: r.pm, split: 'test', accuracy: r.finalTestAccuracy }]),
  ]);
  const x = pmAxis(data.map((d) => d.pm));
  const enc = {
    x,
    y: { field: 'accuracy', type: 'quantitative', title: 'final accuracy', scale: { zero: false }, axis: { format: '.1%' } },
    color: { field: 'variant', type: 'nominal', title: 'variant', scale: colorScale(variants), legend: { orient: 'bottom' } },
    strokeDash: {
      field: 'split',
      type: 'nominal',
      title: 'split',
      scale: {
        domain: ['train', 'test'],
        range: [
          [5, 3],
          [1, 0],
        ],
      },
      legend: { orient: 'right' },
    },
    shape: {
      field: 'split',
      type: 'nominal',
      title: 'split',
      scale: { domain: ['train', 'test'], range: ['triangle-up', 'circle'] },
      legend: { orient: 'right' },
    },
    detail: { field: 'split', type: 'nominal' },
  };
  const title = 'Train vs test accuracy (end of training)';
  const lines = new Set(data.map((d) => `${d.variant}\u0000${d.split}`)).size;
  return {
    name: 'train-test-gap',
    title,
    caption: 'Final train accuracy (dashed, triangles) and final test accuracy (solid, circles) vs Pm: the gap is how much a network overfits.',
    points: data.length,
    lines,
    spec: {
      ...BASE,
      title,
      config: CONFIG,
      data: { values: data },
      layer: [
        { mark: { type: 'line', strokeWidth: 1.8 }, encoding: { ...enc, shape: undefined } },
        { mark: { type: 'point', filled: true, size: 45, opacity: 1 }, encoding: { ...enc, strokeDash: undefined } },
      ],
    } as unknown as TopLevelSpec,
  };
}

/** The four plots of the paper, as Vega-Lite specs. */
export function lotteryPlots(
  rows: readonly SummaryRow[],
  runs: readonly RunPoint[],
  variants: readonly Variant[],
  opts: Pick<ReportConfig, 'curves' | 'errorBars'> & { at?: readonly number[] },
): PlotSpec[] {
  const bars = opts.errorBars === 'std' ? 'mean ± one standard deviation' : 'min..max';
  // Accuracy at fixed iterations (config.at), first: where a figure reports it, it is the headline.
  const atPlots = (opts.at ?? []).map((it, i) =>
    versusPm(
      `accuracy-at-${it}-vs-pm`,
      `Test accuracy at iteration ${it} vs Pm`,
      `Test accuracy at the evaluation nearest iteration ${it}, mean over seeds (error bars: ${bars} across seeds).`,
      rows.map((r) => {
        const a = r.at[i];
        return { ...r, testAccuracy: a?.mean ?? null, testAccuracyMin: a?.min ?? null, testAccuracyMax: a?.max ?? null, testAccuracyStd: a?.std ?? null };
      }),
      variants,
      'testAccuracy',
      `test accuracy at iteration ${it}`,
      opts.errorBars,
    ),
  );
  return [
    ...atPlots,
    versusPm(
      'accuracy-vs-pm',
      'Test accuracy at early stop vs Pm',
      `Test accuracy at the iteration of minimum validation loss, mean over seeds (error bars: ${bars} across seeds).`,
      rows,
      variants,
      'testAccuracy',
      'test accuracy at early stop',
      opts.errorBars,
    ),
    versusPm(
      'early-stop-vs-pm',
      'Early-stopping iteration vs Pm',
      'Iteration of minimum validation loss, mean over seeds (error bars: min..max across seeds). Lower is faster learning.',
      rows,
      variants,
      'earlyStopIteration',
      'early-stop iteration',
      'minmax',
    ),
    learningCurves(runs, variants, opts.curves),
    gapPlot(rows, variants),
  ];
}
