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
