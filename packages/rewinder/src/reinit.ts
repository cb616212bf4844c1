import type { MaskBundle, WeightBundle } from '@lth/artifacts';
import { initWeights } from '@lth/models';
import { applyMask } from './apply';

/**
 * The random re-initialization control (`rewinder/random-reinit` as a plain function): a fresh
 * Gaussian Glorot draw of the mask's model with `seed` (models' initWeights, the same draw as
 * `models/init` with that seed), then the mask applied. Use a seed other than the one of w0.
 */
export function randomReinit(mask: MaskBundle, seed: number): WeightBundle {
  const where = 'rewinder/random-reinit';
  let fresh: WeightBundle;
  try {
    fresh = initWeights(mask.meta.model, seed);
  } catch (e) {
    throw new Error(`${where}: cannot initialize model '${mask.meta.model.arch}' named by the mask: ${(e as Error).message}`);
  }
  const info: Record<string, unknown> = { rule: 'random-reinit' };
  const round = mask.meta.info?.['round'];
  if (round !== undefined) info['round'] = round;
  return { meta: { content: 'reinit', model: fresh.meta.model, iteration: 0, seed, info }, tensors: applyMask(fresh, mask, where) };
}
