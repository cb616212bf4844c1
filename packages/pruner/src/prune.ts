import type { MaskBundle, NamedTensor, TensorBundle } from '@lth/artifacts';
import type { PruneSpec } from './config';
import { keepCount, remainingAfter } from './counts';
import { countOnes, currentMask } from './masks';
import { pruneLowest, type KeyedPart } from './select';

/** The scores of one mask tensor's weights: the lowest unmasked ones are pruned. */
export type Keys = (tensor: NamedTensor<Uint8Array>, index: number) => Pick<KeyedPart, 'keys' | 'keyMask'>;

/** How many weights a group of layers (one layer, or the global union) keeps after this step. */
function keptAfter(spec: PruneSpec, rate: number | undefined, target: number | undefined, remaining: number, total: number): number {
  if (rate !== undefined) return remainingAfter(remaining, rate, spec.rounds ?? 1, spec.rounding);
  // masks nest: a one-shot target never revives weights of a layer already below it
  return Math.min(remaining, keepCount(target as number, total, spec.rounding));
}

/**
 * The pruning step shared by magnitude and random pruning; only the scores differ. Returns
 * the new mask tensors (fresh arrays; the inputs are never modified).
 */
export function pruneByKeys(shapes: TensorBundle, spec: PruneSpec, mask: MaskBundle | undefined, keysFor: Keys, where: string): NamedTensor<Uint8Array>[] {
  const tensors = currentMask(shapes, mask, where);
  const groups: { parts: number[]; keep: number; remaining: number }[] = [];
  if (spec.scope === 'layerwise') {
    tensors.forEach((t, i) => {
      const role = t.role as 'conv' | 'fc' | 'output' | 'shortcut';
      const rate = spec.rate?.[role];
      const target = spec.target?.[role];
      if (rate === undefined && target === undefined) return;
      const remaining = countOnes(t.values);
      groups.push({ parts: [i], remaining, keep: keptAfter(spec, rate, target, remaining, t.values.length) });
    });
  } else {
    const roles = new Set<string>(spec.roles);
    const parts = tensors.flatMap((t, i) => (roles.has(t.role) ? [i] : []));
    if (parts.length === 0) {
      throw new Error(
        `${where}: global pruning over roles [${spec.roles}] but the model has no tensor of those roles (has: ${[...new Set(tensors.map((t) => t.role))].join(', ')})`,
      );
    }
    const remaining = parts.reduce((a, i) => a + countOnes((tensors[i] as NamedTensor<Uint8Array>).values), 0);
    const total = parts.reduce((a, i) => a + (tensors[i] as NamedTensor<Uint8Array>).values.length, 0);
    groups.push({ parts, remaining, keep: keptAfter(spec, spec.rate, spec.target, remaining, total) });
  }
  for (const g of groups) {
    const parts = g.parts.map((i) => {
      const t = tensors[i] as NamedTensor<Uint8Array>;
      return { ...keysFor(t, i), mask: t.values };
    });
    pruneLowest(parts, g.remaining - g.keep);
  }
  return tensors;
}

/** The spec's fields that are set, for the mask's info. */
export function specInfo(spec: PruneSpec): Record<string, unknown> {
  return Object.fromEntries(Object.entries(spec).filter(([, v]) => v !== undefined));
}
