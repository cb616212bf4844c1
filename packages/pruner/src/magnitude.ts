import type { MaskBundle, NamedTensor, WeightBundle } from '@lth/artifacts';
import { PruneSpec, type PruneSpecInput } from './config';
import { checkWeights, nextRound, result, type PruneResult } from './masks';
import { pruneByKeys, specInfo } from './prune';
import { magnitudeKeys } from './select';

/**
 * Magnitude pruning (`pruner/magnitude` as a plain function): removes the unpruned weights of
 * smallest |w| per `spec`, starting from `mask` (absent: the dense network). Ties go to the
 * lower magnitude first, then the lower flat index (global: layers in bundle order).
 */
export function magnitudePrune(weights: WeightBundle, spec: PruneSpecInput | PruneSpec, mask?: MaskBundle): PruneResult {
  const where = 'pruner/magnitude';
  const s = PruneSpec.parse(spec);
  checkWeights(weights, where);
  const byName = new Map(weights.tensors.map((t) => [t.name, t]));
  const tensors = pruneByKeys(
    weights,
    s,
    mask,
    (t) => ({ keys: magnitudeKeys(t.name, (byName.get(t.name) as NamedTensor<Float32Array>).values), keyMask: 0x7fffffff }),
    where,
  );
  return result(weights.meta.model, tensors, { rule: 'magnitude', round: nextRound(mask, s.rate !== undefined ? (s.rounds ?? 1) : 1), ...specInfo(s) });
}
