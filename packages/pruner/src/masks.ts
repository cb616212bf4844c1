import { isPrunable, summarizeSparsity, type MaskBundle, type ModelRef, type NamedTensor, type Sparsity, type TensorBundle } from '@lth/artifacts';

/** Checks that a bundle holds plain weights (not a mask, not a multi-iteration checkpoint bundle). */
export function checkWeights(weights: TensorBundle, where: string): void {
  if (weights.meta.content === 'mask') throw new Error(`${where}: 'weights' is a mask bundle; give the trained weights`);
  if (weights.meta.content === 'checkpoint' && weights.meta.iteration === undefined) {
    throw new Error(`${where}: 'weights' is a bundle of several checkpoints; select one iteration first (selectCheckpoint)`);
  }
  for (const t of weights.tensors) {
    if (!(t.values instanceof Float32Array)) throw new Error(`${where}: weights tensor '${t.name}' is not float32`);
  }
}

/**
 * A fresh copy of the current mask, one uint8 tensor per prunable tensor of `shapes` (in its
 * order); all ones (the dense network) without a mask. Errors name the tensor that does not
 * match, so a mask of another model or a corrupt mask never prunes silently.
 */
export function currentMask(shapes: TensorBundle, mask: MaskBundle | undefined, where: string): NamedTensor<Uint8Array>[] {
  const prunable = shapes.tensors.filter((t) => isPrunable(t.role));
  if (!mask) return prunable.map((t) => ({ name: t.name, role: t.role, shape: [...t.shape], values: new Uint8Array(t.values.length).fill(1) }));
  checkMask(mask, where);
  if (mask.meta.model.arch !== shapes.meta.model.arch) {
    throw new Error(`${where}: mask is for model '${mask.meta.model.arch}', weights are for '${shapes.meta.model.arch}'`);
  }
  const byName = new Map(mask.tensors.map((t) => [t.name, t]));
  const names = new Set(prunable.map((t) => t.name));
  for (const t of mask.tensors) {
    if (!names.has(t.name)) throw new Error(`${where}: mask tensor '${t.name}' is not a prunable tensor of the weights`);
  }
  return prunable.map((t) => {
    const m = byName.get(t.name);
    if (!m) throw new Error(`${where}: mask has no tensor '${t.name}' (role ${t.role})`);
    if (m.shape.join(',') !== t.shape.join(',')) {
      throw new Error(`${where}: mask tensor '${t.name}' has shape [${m.shape}], weights have [${t.shape}]`);
    }
    return { name: t.name, role: t.role, shape: [...t.shape], values: Uint8Array.from(m.values as Uint8Array) };
  });
}

/** A mask bundle must say so and hold only 0/1 uint8 values. */
export function checkMask(mask: TensorBundle, where: string): asserts mask is MaskBundle {
  if (mask.meta.content !== 'mask') throw new Error(`${where}: 'mask' holds '${mask.meta.content}' tensors, not a mask`);
  for (const t of mask.tensors) {
    if (!(t.values instanceof Uint8Array)) throw new Error(`${where}: mask tensor '${t.name}' is not uint8`);
    const v = t.values;
    for (let i = 0; i < v.length; i++) {
      if ((v[i] as number) > 1) throw new Error(`${where}: mask tensor '${t.name}' has value ${v[i]} at flat index ${i} (masks hold 0 or 1)`);
    }
  }
}

export function countOnes(v: Uint8Array): number {
  let n = 0;
  for (let i = 0; i < v.length; i++) n += v[i] as number;
  return n;
}

/** Per-layer and total sparsity of a mask (the `sparsity` artifact). */
export function maskSparsity(tensors: readonly NamedTensor<Uint8Array>[], info?: Record<string, unknown>): Sparsity {
  return summarizeSparsity(
    tensors.map((t) => ({ layer: t.name, role: t.role, total: t.values.length, remaining: countOnes(t.values) })),
    info,
  );
}

/** The pruning round a new mask belongs to: one more than its parent's (1 from the dense network). */
export function nextRound(mask: MaskBundle | undefined, by = 1): number {
  const r = mask?.meta.info?.['round'];
  return (typeof r === 'number' ? r : 0) + by;
}

export interface PruneResult {
  mask: MaskBundle;
  sparsity: Sparsity;
}

export function result(model: ModelRef, tensors: NamedTensor<Uint8Array>[], info: Record<string, unknown>): PruneResult {
  return { mask: { meta: { content: 'mask', model, info }, tensors }, sparsity: maskSparsity(tensors, info) };
}
