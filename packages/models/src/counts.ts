import type { ModelRef } from '@lth/artifacts';
import { declareTensors } from './spec';
import { MODEL_NAMES, modelSpec } from './zoo';

export interface ParamCounts {
  /** Every trained value (weights, biases, batch-norm scale and shift); not the BN buffers. */
  total: number;
  /** conv + fc + output + shortcut weights: what pruning may remove. */
  prunable: number;
  byRole: { conv: number; fc: number; output: number; shortcut: number; bias: number; batchnorm: number };
}

export function paramCounts(ref: ModelRef): ParamCounts {
  const byRole = { conv: 0, fc: 0, output: 0, shortcut: 0, bias: 0, batchnorm: 0 };
  for (const d of declareTensors(modelSpec(ref)).tensors) {
    if (d.role === 'buffer') continue;
    byRole[d.role] += d.shape.reduce((a, b) => a * b, 1);
  }
  const prunable = byRole.conv + byRole.fc + byRole.output + byRole.shortcut;
  return { total: prunable + byRole.bias + byRole.batchnorm, prunable, byRole };
}

export interface ModelListing {
  name: string;
  params: ParamCounts;
  /** Every tensor of the model (buffers included, with role 'buffer'), in bundle order. */
  layers: { name: string; role: string; shape: number[] }[];
}

/** Every architecture with its default options: what `lth models [--json]` prints. */
export function listModels(): ModelListing[] {
  return MODEL_NAMES.map((name) => {
    const ref = { arch: name, options: {} };
    const layers = declareTensors(modelSpec(ref)).tensors.map((d) => ({ name: d.name, role: d.role, shape: [...d.shape] }));
    return { name, params: paramCounts(ref), layers };
  });
}

/** The readable form of `listModels()` for `lth models` without --json. */
export function formatModelTable(list: ModelListing[] = listModels()): string {
  const head = ['model', 'total', 'prunable', 'conv', 'fc', 'output', 'shortcut', 'bias', 'batchnorm', 'tensors'];
  const rows = list.map((m) => [
    m.name,
    ...[
      m.params.total,
      m.params.prunable,
      m.params.byRole.conv,
      m.params.byRole.fc,
      m.params.byRole.output,
      m.params.byRole.shortcut,
      m.params.byRole.bias,
      m.params.byRole.batchnorm,
    ].map((n) => n.toLocaleString('en-US')),
    String(m.layers.length),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}
