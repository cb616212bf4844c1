import { isPrunable, type MaskBundle, type NamedTensor, type WeightBundle } from '@lth/artifacts';

/**
 * The masked copy of `source`'s tensors: a prunable tensor keeps its value where the mask is 1
 * and is exactly +0 where it is 0 (written, not multiplied, so no -0 and no NaN * 0 survives);
 * every other tensor (biases, batch norm, buffers) is copied unchanged. Errors name the
 * tensor when the mask does not fit the model.
 */
export function applyMask(source: WeightBundle, mask: MaskBundle, where: string): NamedTensor<Float32Array>[] {
  if (mask.meta.content !== 'mask') throw new Error(`${where}: 'mask' holds '${mask.meta.content}' tensors, not a mask`);
  if (mask.meta.model.arch !== source.meta.model.arch) {
    throw new Error(`${where}: mask is for model '${mask.meta.model.arch}', weights are for '${source.meta.model.arch}'`);
  }
  const byName = new Map(mask.tensors.map((t) => [t.name, t]));
  const used = new Set<string>();
  const tensors = source.tensors.map((t) => {
    if (!(t.values instanceof Float32Array)) throw new Error(`${where}: weights tensor '${t.name}' is not float32`);
    const values = Float32Array.from(t.values);
    if (!isPrunable(t.role)) return { name: t.name, role: t.role, shape: [...t.shape], values };
    const m = byName.get(t.name);
    if (!m) throw new Error(`${where}: mask has no tensor '${t.name}' (role ${t.role})`);
    if (m.shape.join(',') !== t.shape.join(',')) {
      throw new Error(`${where}: mask tensor '${t.name}' has shape [${m.shape}], weights have [${t.shape}]`);
    }
    used.add(t.name);
    const mv = m.values;
    for (let i = 0; i < values.length; i++) {
      const k = mv[i] as number;
      if (k === 0) values[i] = 0;
      else if (k !== 1) throw new Error(`${where}: mask tensor '${t.name}' has value ${k} at flat index ${i} (masks hold 0 or 1)`);
    }
    return { name: t.name, role: t.role, shape: [...t.shape], values };
  });
  for (const t of mask.tensors) {
    if (!used.has(t.name)) throw new Error(`${where}: mask tensor '${t.name}' is not a prunable tensor of the weights`);
  }
  return tensors;
}
