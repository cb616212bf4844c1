import type { MaskBundle, WeightBundle } from '@lth/artifacts';

/** The weights, mask or their pairing cannot be exported (bad input, not a bug). */
export class ExportInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ExportInputError';
  }
}

export interface PlainTensor {
  shape: number[];
  values: Float32Array;
}

/**
 * The bundle's tensors by name with the mask applied (pruned weights exactly 0), after checking
 * that the mask belongs to the weights: same architecture, known names, matching sizes.
 * `where` prefixes the errors (the exporter's name).
 */
export function maskedTensors(bundle: WeightBundle, mask: MaskBundle | undefined, where: string): Map<string, PlainTensor> {
  const out = new Map(bundle.tensors.map((t) => [t.name, { shape: t.shape, values: t.values }]));
  if (!mask) return out;
  if (mask.meta.content !== 'mask') throw new ExportInputError(`${where}: the mask bundle holds '${mask.meta.content}' tensors, not a mask`);
  if (mask.meta.model.arch !== bundle.meta.model.arch) {
    throw new ExportInputError(`${where}: mask is for '${mask.meta.model.arch}' but the weights are '${bundle.meta.model.arch}'`);
  }
  for (const m of mask.tensors) {
    const w = out.get(m.name);
    if (!w) throw new ExportInputError(`${where}: mask tensor '${m.name}' names no weight of '${bundle.meta.model.arch}'`);
    if (m.values.length !== w.values.length)
      throw new ExportInputError(`${where}: mask tensor '${m.name}' has ${m.values.length} values, the weight ${w.values.length}`);
    out.set(m.name, { shape: w.shape, values: w.values.map((v, i) => (m.values[i] ? v : 0)) });
  }
  return out;
}
