import { z } from 'zod';

/** The roles a pruner may select (the model zoo's PRUNABLE_ROLES). */
export const PrunableRole = z.enum(['conv', 'fc', 'output', 'shortcut']);
export type PrunableRole = z.output<typeof PrunableRole>;

/**
 * How a fractional count becomes an integer number of weights to prune:
 * - 'round' (default): nearest integer, halves up; the count closest to rate * remaining
 *   (Frankle's original lottery-ticket code rounds too).
 * - 'ceil': open_lth's `np.ceil(fraction * remaining)`; never prunes fewer than asked.
 * Products within 1e-9 (relative) of an integer or a half are snapped first, so that float
 * noise such as 0.2 * 5 = 1.0000000000000002 does not change the count.
 */
export const Rounding = z.enum(['round', 'ceil']);
export type Rounding = z.output<typeof Rounding>;

const Rate = z.number().min(0).lt(1);
const Target = z.number().min(0).max(1);
const roleMap = <T extends z.ZodType>(v: T) => z.strictObject({ conv: v.optional(), fc: v.optional(), output: v.optional(), shortcut: v.optional() });

const common = {
  /**
   * Only with `rate`: prune in one shot as many weights as `rounds` iterative rounds at this
   * rate would remove from the current mask (counts simulated round by round with the same
   * rounding), so `{ rate: { fc: 0.2, output: 0.1 }, rounds: n }` one-shot gives exactly the
   * per-layer counts that n iterative rounds give. Default 1: one ordinary iterative round.
   */
  rounds: z.number().int().min(1).optional(),
  rounding: Rounding.default('round'),
};

function exactlyOne(v: { rate?: unknown; target?: unknown; rounds?: unknown }, ctx: z.RefinementCtx): void {
  if ((v.rate === undefined) === (v.target === undefined)) {
    ctx.addIssue({
      code: 'custom',
      message: "give exactly one of 'rate' (fraction of the remaining weights to remove) or 'target' (fraction of all weights to keep)",
    });
  }
  if (v.rounds !== undefined && v.rate === undefined) {
    ctx.addIssue({ code: 'custom', path: ['rounds'], message: "'rounds' needs 'rate' (with 'target' the count is already fixed)" });
  }
}

/**
 * Layerwise magnitude pruning; every prunable tensor is a layer of its own.
 * - `rate: { conv?, fc?, output?, shortcut? }`: each round removes that fraction of the
 *   *remaining* (unpruned) weights of every layer of that role; roles not listed are not
 *   pruned. Paper: LeNet `{ fc: 0.2, output: 0.1 }`, Conv-2/4 `{ conv: 0.1, fc: 0.2, output: 0.1 }`.
 * - `target: { conv?, fc?, output?, shortcut? }` (one-shot): each layer of that role keeps
 *   round(target * its total weights); a layer already at or below that stays as it is (masks
 *   nest). Per-role targets make one-shot comparable with iterative pruning: after n rounds at
 *   fc 20% / output 10%, Pm_fc = 0.8^n and Pm_output = 0.9^n, so one-shot to the same point is
 *   `{ fc: 0.8^n, output: 0.9^n }` (or `rate` with `rounds: n` for the identical counts).
 */
export const LayerwisePrune = z
  .strictObject({ scope: z.literal('layerwise'), rate: roleMap(Rate).optional(), target: roleMap(Target).optional(), ...common })
  .superRefine(exactlyOne);

/**
 * Global magnitude pruning: one threshold over the union of all layers of `roles` ("without
 * regard for the specific layer"); other roles are kept. Paper: VGG-19 and ResNet-18 prune
 * `roles: [conv]` at `rate: 0.2`, keeping the output and shortcut layers.
 * - `rate`: removes that fraction of the union's remaining weights per round.
 * - `target` (one-shot): the union keeps round(target * its total weights).
 */
export const GlobalPrune = z
  .strictObject({ scope: z.literal('global'), roles: z.array(PrunableRole).min(1), rate: Rate.optional(), target: Target.optional(), ...common })
  .superRefine(exactlyOne);

/** What to prune and how much: `scope` discriminates layerwise from global pruning. */
export const PruneSpec = z.discriminatedUnion('scope', [LayerwisePrune, GlobalPrune]);
export type PruneSpec = z.output<typeof PruneSpec>;
export type PruneSpecInput = z.input<typeof PruneSpec>;

/** `pruner/magnitude`: a PruneSpec. Ties: the lower magnitude goes first, then the lower flat index. */
export const MagnitudeConfig = PruneSpec;
export type MagnitudeConfig = PruneSpec;

/**
 * `pruner/random`, the random-pruning control.
 * - `{ seed }`: a random mask with exactly as many weights kept in each layer as the input
 *   `mask` (the reference, e.g. a magnitude-pruned mask); positions uniform over the layer.
 * - `{ seed, prune: PruneSpec }`: prunes like `pruner/magnitude` but with random scores
 *   instead of magnitudes, from the current `mask` (nesting) or from the dense `weights`.
 */
export const RandomConfig = z.strictObject({
  seed: z.number().int(),
  prune: PruneSpec.optional(),
});
export type RandomConfig = z.output<typeof RandomConfig>;
