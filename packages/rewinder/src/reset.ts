import { checkpointIterations, selectCheckpoint, type MaskBundle, type WeightBundle } from '@lth/artifacts';
import { applyMask } from './apply';

/**
 * Resets the surviving weights to w0 or rewinds them to w_k (`rewinder/reset` as a plain
 * function). `source` is either an init bundle (w0; `iteration` absent or 0) or a checkpoint
 * bundle from the trainer (`iteration` picks w_k and is required when it holds several). Pruned
 * weights are exactly 0; biases, batch norm and buffers come from the source unchanged. The
 * result has content 'rewound' and meta.iteration = k (0 for w0).
 */
export function resetWeights(source: WeightBundle, mask: MaskBundle, opts: { iteration?: number } = {}): WeightBundle {
  const where = 'rewinder/reset';
  const k = opts.iteration;
  let from: WeightBundle;
  const content = source.meta.content;
  if (content === 'init') {
    if (k !== undefined && k !== 0) {
      throw new Error(`${where}: config.iteration is ${k} but 'weights' is an init bundle (w0); rewinding to w_${k} needs the trainer's checkpoint bundle`);
    }
    from = source;
  } else if (content === 'checkpoint') {
    if (source.meta.iteration !== undefined) {
      // a single, already selected checkpoint
      if (k !== undefined && k !== source.meta.iteration) {
        throw new Error(`${where}: config.iteration is ${k} but 'weights' holds the checkpoint of iteration ${source.meta.iteration}`);
      }
      from = source;
    } else {
      if (k === undefined) {
        const its = checkpointIterations(source);
        throw new Error(
          `${where}: 'weights' is a checkpoint bundle (iterations ${its.length ? its.join(', ') : 'none'}); set config.iteration to the one to rewind to`,
        );
      }
      try {
        from = selectCheckpoint(source, k);
      } catch (e) {
        throw new Error(`${where}: config.iteration: ${(e as Error).message}`, { cause: e });
      }
    }
  } else {
    throw new Error(
      `${where}: 'weights' holds '${content}' weights; give the init bundle (content 'init', to reset to w0) or the trainer's checkpoints (to rewind to w_k)`,
    );
  }
  const iteration = from.meta.iteration ?? 0;
  const info: Record<string, unknown> = { from: content };
  const round = mask.meta.info?.['round'];
  if (round !== undefined) info['round'] = round;
  return {
    meta: { content: 'rewound', model: from.meta.model, iteration, ...(source.meta.seed !== undefined ? { seed: source.meta.seed } : {}), info },
    tensors: applyMask(from, mask, where),
  };
}
