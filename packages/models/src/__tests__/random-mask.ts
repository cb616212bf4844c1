import { createRng } from '@lth/compute';
import { isPrunable, type MaskBundle, type WeightBundle } from '@lth/artifacts';

/** A mask over the prunable tensors of `w` keeping each weight with probability `keep` (seeded). */
export function randomMask(w: WeightBundle, seed: number, keep: number): MaskBundle {
  const rng = createRng('test', seed);
  return {
    meta: { content: 'mask', model: w.meta.model },
    tensors: w.tensors.filter((t) => isPrunable(t.role)).map((t) => ({ ...t, values: Uint8Array.from(t.values, () => (rng.next() < keep ? 1 : 0)) })),
  };
}
