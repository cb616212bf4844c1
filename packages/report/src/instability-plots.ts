import type { TopLevelSpec } from 'vega-lite';
import type { InstabilityRow, PathRow, TicketPoint } from './instability-data';
import type { PlotSpec } from './plots';

const BASE = { $schema: 'https://vega.github.io/schema/vega-lite/v5.json', background: 'white' } as const;
const CONFIG = { font: 'Helvetica, Arial, sans-serif', axis: { labelFontSize: 11, titleFontSize: 12 }, legend: { labelFontSize: 11, titleFontSize: 12 } };
const PALETTE = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac'];
const pct = (x: number) => `${Number((x * 100).toPrecision(3))}%`;

/** k on a symmetric-log axis: 0 fits, and 100 / 500 / 2000 are spread as on the paper's log axes. */
function kAxis(ks: readonly number[]) {
  return {
    field: 'k',
    type: 'quantitative' as const,
    title: 'k: iteration the copies start from (rewind iteration)',
    scale: { type: 'symlog' as const, constant: 10, nice: false },
    axis: { values: [...new Set(ks)].sort((a, b) => a - b), format: 'd', grid: true },
  };
}

/** Error along the linear path, one panel per network, one line per k. */
export function pathPlot(rows: readonly PathRow[], split: string, labels: readonly string[]): PlotSpec {
  const data = rows.filter((r) => r.split === split).map((r) => ({ label: r.label, k: r.k, curve: `k = ${r.k}`, alpha: r.alpha, error: r.error }));
  const curves = [...new Set(data.map((d) => `${d.label}\u0000${d.k}`))].length;
  const order = [...new Set(data.map((d) => d.k))].sort((a, b) => a - b).map((k) => `k = ${k}`);
  const title = `${split[0]?.toUpperCase()}${split.slice(1)} error along the linear path`;
  return {
    name: 'error-along-path',
    title,
    caption: `Error of (1 - alpha) w_A + alpha w_B between the two copies trained from k to T with different data orders, one line per k (alpha 0 = copy A, 1 = copy B).`,
    points: 0,
    lines: curves,
    spec: {
      ...BASE,
      title,
      config: CONFIG,
      data: { values: data },
      facet: { field: 'label', type: 'nominal', title: null, sort: [...labels], header: { labelFontSize: 13 } },
      columns: 3,
      spec: {
        width: 200,
        height: 160,
        mark: { type: 'line', strokeWidth: 1.6, point: { size: 18, filled: true } },
        encoding: {
          x: { field: 'alpha', type: 'quantitative', title: 'alpha', scale: { domain: [0, 1] } },
          y: { field: 'error', type: 'quantitative', title: `${split} error`, axis: { format: '.1%' }, scale: { zero: false } },
          color: { field: 'curve', type: 'ordinal', title: 'k', sort: order, scale: { scheme: 'viridis' }, legend: { orient: 'right' } },
          detail: { field: 'k', type: 'ordinal' },
        },
      },
    } as unknown as TopLevelSpec,
  };
}

/** Instability vs k, one line per network. */
export function instabilityPlot(rows: readonly InstabilityRow[], split: string, labels: readonly string[]): PlotSpec {
  const data = rows
    .filter((r) => r.split === split)
    .map((r) => ({ label: r.label, k: r.k, instability: r.instability, pm: r.pm === null ? 'unknown' : pct(r.pm) }));
  const color = {
    field: 'label',
    type: 'nominal' as const,
    title: 'network',
    sort: [...labels],
    scale: { domain: [...labels], range: labels.map((_, i) => PALETTE[i % PALETTE.length] as string) },
    legend: { orient: 'bottom' as const },
  };
  const enc = {
    x: kAxis(data.map((d) => d.k)),
    y: { field: 'instability', type: 'quantitative' as const, title: `instability (${split} error)`, axis: { format: '.1%' } },
    color,
  };
  const title = 'Instability vs k';
  return {
    name: 'instability-vs-k',
    title,
    caption: `Instability = maximum ${split} error on the path - mean of the two ends' errors, for copies spawned at iteration k. Near 0: the network is stable to SGD noise from k on.`,
    points: data.length,
    lines: new Set(data.map((d) => d.label)).size,
    spec: {
      ...BASE,
      width: 420,
      height: 280,
      title,
      config: CONFIG,
      data: { values: data },
      layer: [
        { mark: { type: 'line', strokeWidth: 2 }, encoding: enc },
        { mark: { type: 'point', filled: true, size: 55, opacity: 1 }, encoding: enc },
      ],
    } as unknown as TopLevelSpec,
  };
}

/** IMP tickets' test accuracy vs the rewind iteration, one line per sparsity, dense as a rule. */
export function accuracyVsRewindPlot(points: readonly TicketPoint[], dense: number | null, accuracy: 'final' | 'earlyStop'): PlotSpec {
  // Rounds prune the same counts whatever k is, so a Pm label (3 digits) names a round.
  const data = points.map((p) => ({ k: p.k, pm: p.pm, sparsity: `Pm ${pct(p.pm)}`, accuracy: p.accuracy }));
  const order = [...new Map(data.map((d) => [d.sparsity, d.pm])).entries()].sort((a, b) => b[1] - a[1]).map(([s]) => s);
  const enc = {
    x: kAxis(data.map((d) => d.k)),
    y: {
      field: 'accuracy',
      type: 'quantitative' as const,
      title: `test accuracy (${accuracy === 'final' ? 'end of training' : 'early stop'})`,
      scale: { zero: false },
      axis: { format: '.1%' },
    },
    color: { field: 'sparsity', type: 'ordinal' as const, title: 'Pm', sort: order, scale: { scheme: 'viridis' }, legend: { orient: 'right' as const } },
  };
  const layer: unknown[] = [
    { data: { values: data }, mark: { type: 'line', strokeWidth: 1.6 }, encoding: enc },
    { data: { values: data }, mark: { type: 'point', filled: true, size: 40, opacity: 1 }, encoding: enc },
  ];
  if (dense !== null) {
    layer.push({
      data: { values: [{ accuracy: dense, what: 'dense network' }] },
      mark: { type: 'rule', strokeDash: [6, 4], color: '#333' },
      encoding: { y: { field: 'accuracy', type: 'quantitative' } },
    });
  }
  const title = 'IMP ticket accuracy vs rewind iteration';
  return {
    name: 'accuracy-vs-rewind',
    title,
    caption: `Test accuracy of the IMP tickets found with rewinding to k (trained from k to T), one line per Pm; dashed: the dense network${dense === null ? ' (not given)' : ` (${pct(dense)})`}.`,
    points: data.length,
    lines: order.length,
    spec: { ...BASE, width: 420, height: 280, title, config: CONFIG, layer } as unknown as TopLevelSpec,
  };
}
