import type { MaskBundle, WeightBundle } from '@lth/artifacts';
// The tf-free entry point: rewinding and re-initializing need no tensors (see @lth/models/weights).
import { reinitWeights } from '@lth/models/weights';
import { applyMask } from './apply';

/** The round a mask belongs to (the pruner writes it in meta.info.round; 0 if absent). */
export function maskRound(mask: MaskBundle): number {
  const round = mask.meta.info?.['round'];
  return typeof round === 'number' && Number.isInteger(round) ? round : 0;
}

/**
 * The random re-initialization control (`rewinder/random-reinit` as a plain function): a fresh
 * Gaussian Glorot draw of the mask's model, then the mask applied. The draw comes from the
 * 'reinit' random stream of (seed, round), never from w0's 'init' stream, so passing the
 * pipeline's own seed is right and cannot reproduce the ticket (the bug this replaced: a
 * reinit drawn with the seed of w0 was w0). `round` defaults to the mask's round, so each
 * round's control is an independent draw.
 */
export function randomReinit(mask: MaskBundle, seed: number, round: number = maskRound(mask)): WeightBundle {
  const where = 'rewinder/random-reinit';
  let fresh: WeightBundle;
  try {
    fresh = reinitWeights(mask.meta.model, seed, round);
  } catch (e) {
    throw new Error(`${where}: cannot initialize model '${mask.meta.model.arch}' named by the mask: ${(e as Error).message}`, { cause: e });
  }
  const info: Record<string, unknown> = { rule: 'random-reinit', stream: { purpose: 'reinit', seed, round } };
  const maskRoundInfo = mask.meta.info?.['round'];
  if (maskRoundInfo !== undefined) info['round'] = maskRoundInfo;
  return { meta: { content: 'reinit', model: fresh.meta.model, iteration: 0, seed, info }, tensors: applyMask(fresh, mask, where) };
}
