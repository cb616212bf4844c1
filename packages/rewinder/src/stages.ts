import { defineStage, type AnyStageDef, type MaskBundle, type WeightBundle } from '@lth/artifacts';
import { z } from 'zod';
import { randomReinit } from './reinit';
import { resetWeights } from './reset';

/** `rewinder/reset`: `iteration` picks w_k from a checkpoint bundle (absent: w0 from an init bundle). */
export const ResetConfig = z.strictObject({ iteration: z.number().int().nonnegative().optional() });
export type ResetConfig = z.output<typeof ResetConfig>;

/** `rewinder/random-reinit`: the seed of the fresh Glorot draw (not the seed of w0). */
export const ReinitConfig = z.strictObject({ seed: z.number().int() });
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
  description: 'Random re-initialization control: a fresh Glorot draw with another seed, under the same mask',
  config: ReinitConfig,
  inputs: { mask: { kind: 'tensors', description: 'the mask; its meta names the model' } },
  outputs: { weights: { kind: 'tensors', description: "content 'reinit'" } },
  async run(ctx, cfg, inputs) {
    const weights = randomReinit(inputs.mask as MaskBundle, cfg.seed);
    ctx.log(`rewinder/random-reinit: ${weights.meta.model.arch} re-initialized with seed ${cfg.seed}`);
    return { weights };
  },
});

export const stages: AnyStageDef[] = [resetStage as unknown as AnyStageDef, reinitStage as unknown as AnyStageDef];
