import { splitView, type Dataset } from '@lth/artifacts';
import { tf, type Rng } from '@lth/compute';
import { evalBatches } from '@lth/data';
import { BN_MOMENTUM } from '@lth/models';
import type { PathModel } from './model';

export interface RecomputeOptions {
  /** The first this many training examples (full batches only). */
  examples: number;
  batchSize: number;
  /** Dropout draws in train mode (the zoo's batch-norm networks have no dropout). */
  rng: Rng;
  /** The running-average momentum of the model's batch norm (PyTorch's 0.1, as @lth/models). */
  momentum?: number;
}

/**
 * Measures the batch-norm running statistics of the model's current weights on training data:
 * every buffer becomes the mean, over `floor(examples / batchSize)` full batches of the
 * training split in stored order (no augmentation), of that batch's statistic in train mode
 * (mean, unbiased variance), which is PyTorch's `reset_running_stats()` followed by forward
 * passes with `momentum=None`. The model's forward pass updates a buffer as
 * `(1 - m) * buffer + m * batch`, so setting it to 0 before each batch and dividing by m after
 * reads the batch's statistic without touching the model code. Returns the batches used.
 */
export function recomputeBatchNorm(model: PathModel, data: Dataset, opts: RecomputeOptions): number {
  const buffers = [...(model.buffers ?? new Map<string, tf.Variable>())];
  if (buffers.length === 0) return 0;
  const m = opts.momentum ?? BN_MOMENTUM;
  const available = splitView(data, 'train').count;
  const batches = Math.floor(Math.min(opts.examples, available) / opts.batchSize);
  if (batches < 1) {
    throw new Error(
      `instability: recomputing batch-norm statistics needs at least one full batch of ${opts.batchSize} training examples; ${Math.min(opts.examples, available)} are available (batchNorm.examples, the training split)`,
    );
  }
  const sums = new Map<string, tf.Tensor>(buffers.map(([name, v]) => [name, tf.zerosLike(v)]));
  try {
    for (const b of evalBatches(data, 'train', opts.batchSize, { limit: batches * opts.batchSize })) {
      try {
        tf.tidy(() => {
          for (const [, v] of buffers) v.assign(tf.zerosLike(v));
        });
        model.apply(b.x, { training: true, rng: opts.rng }).dispose();
        for (const [name, v] of buffers) {
          const prev = sums.get(name) as tf.Tensor;
          sums.set(
            name,
            tf.tidy(() => tf.add(prev, tf.div(v, m))),
          );
          prev.dispose();
        }
      } finally {
        b.x.dispose();
        b.y.dispose();
      }
    }
    tf.tidy(() => {
      for (const [name, v] of buffers) v.assign(tf.div(sums.get(name) as tf.Tensor, batches));
    });
  } finally {
    for (const t of sums.values()) t.dispose();
  }
  return batches;
}
