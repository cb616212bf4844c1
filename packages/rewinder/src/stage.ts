import { defineStage, type AnyStageDef, type MaskBundle, type WeightBundle } from '@lth/artifacts';
import { z } from 'zod';
import { maskRound, randomReinit } from './reinit';
import { resetWeights } from './reset';

/** `rewinder/reset`: `iteration` picks w_k from a checkpoint bundle (absent: w0 from an init bundle). */
export const ResetConfig = z.strictObject({ iteration: z.number().int().nonnegative().optional() });
export type ResetConfig = z.output<typeof ResetConfig>;

/**
 * `rewinder/random-reinit`: the pipeline's seed and, optionally, the round (default: the
 * mask's round). The draw uses the 'reinit' random stream of (seed, round), which is
 * independent of w0's stream for every pair of seeds, so the pipeline seed is the right value.
 */
export const ReinitConfig = z.strictObject({ seed: z.number().int(), round: z.number().int().nonnegative().optional() });
export type ReinitConfig = z.output<typeof ReinitConfig>;

export const resetStage = defineStage({
  id: 'rewinder/reset',
  description: 'Reset the surviving weights to w0, or rewind them to w_k from a checkpoint bundle; pruned weights are 0',
  config: ResetConfig,
  inputs: {
    weights: { kind: 'tensors', description: "the init bundle (w0) or the trainer's checkpoint bundle" },
    mask: { kind: 'tensors', description: 'the mask to apply' },
  },
  outputs: { weights: { kind: 'tensors', description: "content 'rewound', meta.iteration = k (0 for w0)" } },
  async run(ctx, cfg, inputs) {
    const weights = resetWeights(inputs.weights as WeightBundle, inputs.mask as MaskBundle, cfg.iteration === undefined ? {} : { iteration: cfg.iteration });
    ctx.log(`rewinder/reset: surviving weights set to w_${weights.meta.iteration ?? 0}`);
    return { weights };
  },
});

export const reinitStage = defineStage({
  id: 'rewinder/random-reinit',
  description: 'Random re-initialization control: a fresh Glorot draw (its own random stream, never w0), under the same mask',
  config: ReinitConfig,
  inputs: { mask: { kind: 'tensors', description: 'the mask; its meta names the model' } },
  outputs: { weights: { kind: 'tensors', description: "content 'reinit'" } },
  async run(ctx, cfg, inputs) {
    const mask = inputs.mask as MaskBundle;
    const weights = randomReinit(mask, cfg.seed, cfg.round ?? maskRound(mask));
    ctx.log(
      `rewinder/random-reinit: ${weights.meta.model.arch} re-initialized from the reinit stream of seed ${cfg.seed}, round ${cfg.round ?? maskRound(mask)}`,
    );
    return { weights };
  },
});

export const stages: AnyStageDef[] = [resetStage, reinitStage];
