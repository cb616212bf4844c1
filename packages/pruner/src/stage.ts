import { defineStage, type AnyStageDef, type MaskBundle, type TensorBundle } from '@lth/artifacts';
import { MagnitudeConfig, RandomConfig } from './config';
import { checkMask } from './masks';
import { magnitudePrune } from './magnitude';
import { randomMaskLike, randomPrune } from './random';

const outputs = {
  mask: { kind: 'tensors', description: "the new mask (content 'mask', info: round, rule and the config)" },
  sparsity: { kind: 'sparsity', description: 'weights kept per prunable layer and in total' },
} as const;

function asMask(t: TensorBundle | undefined, where: string): MaskBundle | undefined {
  if (t) checkMask(t, where);
  return t as MaskBundle | undefined;
}

export const magnitudeStage = defineStage({
  id: 'pruner/magnitude',
  description: 'Magnitude pruning, layerwise or global, iterative (rate) or one-shot (target)',
  config: MagnitudeConfig,
  inputs: {
    weights: { kind: 'tensors', description: 'the trained weights to rank by magnitude' },
    mask: { kind: 'tensors', optional: true, description: 'the current mask (absent: the dense network)' },
  },
  outputs,
  async run(ctx, cfg, inputs) {
    const r = magnitudePrune(inputs.weights as TensorBundle<Float32Array>, cfg, asMask(inputs.mask, 'pruner/magnitude'));
    ctx.log(
      `pruner/magnitude: round ${String(r.mask.meta.info?.['round'])}, ${r.sparsity.meta.remaining}/${r.sparsity.meta.total} weights kept (${(100 * r.sparsity.meta.fraction).toFixed(2)}%)`,
    );
    return r;
  },
});

export const randomStage = defineStage({
  id: 'pruner/random',
  description: 'Random pruning control: a random mask with the per-layer counts of a reference mask, or random scores with a rate/target',
  config: RandomConfig,
  inputs: {
    mask: { kind: 'tensors', optional: true, description: 'without `prune`: the reference mask; with it: the current mask' },
    weights: { kind: 'tensors', optional: true, description: 'with `prune` and no mask: any bundle of the model, for its tensor shapes' },
  },
  outputs,
  async run(ctx, cfg, inputs) {
    const where = 'pruner/random';
    const mask = asMask(inputs.mask, where);
    let r;
    if (cfg.prune === undefined) {
      if (!mask) throw new Error(`${where}: without 'prune' in the config the input 'mask' (the reference mask to match) is required`);
      r = randomMaskLike(mask, cfg.seed);
    } else {
      const shapes = inputs.weights ?? mask;
      if (!shapes) throw new Error(`${where}: give the input 'mask' (the current mask) or 'weights' (for the tensor shapes)`);
      r = randomPrune(shapes, cfg.prune, cfg.seed, mask);
    }
    ctx.log(`${where}: ${r.sparsity.meta.remaining}/${r.sparsity.meta.total} weights kept (seed ${cfg.seed})`);
    return r;
  },
});

export const stages: AnyStageDef[] = [magnitudeStage, randomStage];
