import { isPrunable, type TensorBundle } from '@lth/artifacts';
import { tf } from '@lth/compute';
import type { TrainableModel } from './types';

/**
 * The mask bundle as float 0/1 tensors keyed by param name, checked against the model: every
 * mask tensor must name a prunable param of the same shape, and hold only 0 and 1.
 * The caller disposes the tensors.
 */
export function maskTensors(mask: TensorBundle, model: TrainableModel, where = 'mask'): Map<string, tf.Tensor> {
  if (mask.meta.content !== 'mask') throw new Error(`${where}: bundle holds '${mask.meta.content}' tensors, not a mask`);
  if (mask.meta.model.arch !== model.ref.arch) {
    throw new Error(`${where}: mask is for model '${mask.meta.model.arch}' but the weights are '${model.ref.arch}'`);
  }
  const out = new Map<string, tf.Tensor>();
  try {
    for (const t of mask.tensors) {
      const p = model.params.get(t.name);
      if (!p) throw new Error(`${where}: tensor '${t.name}' names no parameter of '${model.ref.arch}'`);
      const role = model.roles.get(t.name);
      if (!role || !isPrunable(role)) throw new Error(`${where}: tensor '${t.name}' masks a '${role}' tensor, which is not prunable`);
      if (t.shape.join() !== p.shape.join()) throw new Error(`${where}: tensor '${t.name}' has shape [${t.shape}] but the parameter has [${p.shape}]`);
      if (!(t.values instanceof Uint8Array)) throw new Error(`${where}: tensor '${t.name}' is not uint8 (masks hold 0/1 bytes)`);
      const f = new Float32Array(t.values.length);
      for (let i = 0; i < f.length; i++) {
        const b = t.values[i] as number;
        if (b > 1) throw new Error(`${where}: tensor '${t.name}' holds ${b} at index ${i}; masks hold only 0 and 1`);
        f[i] = b;
      }
      out.set(t.name, tf.tensor(f, t.shape, 'float32'));
    }
  } catch (err) {
    for (const t of out.values()) t.dispose();
    throw err;
  }
  return out;
}

/** Fraction of the model's prunable weights that the mask keeps (1 without a mask). */
export function remainingFraction(model: TrainableModel, mask?: TensorBundle): number {
  const byName = new Map((mask?.tensors ?? []).map((t) => [t.name, t]));
  let total = 0;
  let kept = 0;
  for (const [name, p] of model.params) {
    const role = model.roles.get(name);
    if (!role || !isPrunable(role)) continue;
    total += p.size;
    const m = byName.get(name);
    if (!m) kept += p.size;
    else for (let i = 0; i < m.values.length; i++) kept += (m.values[i] as number) !== 0 ? 1 : 0;
  }
  return total === 0 ? 1 : kept / total;
}
