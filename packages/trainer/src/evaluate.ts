import type { Dataset, EarlyStop, MetricRow, SplitName } from '@lth/artifacts';
import { tf } from '@lth/compute';
import { evalBatches } from '@lth/data';
import type { TrainableModel } from './types';

/** Mean softmax cross-entropy of integer labels on logits (the training loss). */
export function crossEntropy(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Scalar {
  return tf.tidy(() => {
    const onehot = tf.cast(tf.oneHot(tf.cast(labels, 'int32'), logits.shape[1]), 'float32');
    return tf.neg(tf.mean(tf.sum(tf.mul(onehot, tf.logSoftmax(logits)), 1))) as tf.Scalar;
  });
}

export interface SplitEval {
  loss: number;
  accuracy: number;
  count: number;
}

/**
 * The evaluation of one split as a generator that yields after every batch, so a caller can
 * yield to the event loop (abort signals, progress) during a long evaluation; returns the
 * result, null when the split is empty. Sums are read back once per batch, in float64.
 */
export function* evaluateSteps(model: TrainableModel, ds: Dataset, split: SplitName, batchSize: number, limit?: number): Generator<number, SplitEval | null, undefined> {
  let loss = 0;
  let correct = 0;
  let count = 0;
  for (const b of evalBatches(ds, split, batchSize, limit === undefined ? {} : { limit })) {
    try {
      const sums = tf.tidy(() => {
        const logits = model.apply(b.x, { training: false });
        const n = b.y.shape[0];
        const l = tf.mul(crossEntropy(logits, b.y), n);
        const c = tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), tf.cast(b.y, 'int32')), 'float32'));
        return tf.stack([l, c]);
      });
      const [l, c] = sums.dataSync() as Float32Array;
      sums.dispose();
      loss += l as number;
      correct += c as number;
      count += b.y.shape[0];
    } finally {
      b.x.dispose();
      b.y.dispose();
    }
    yield count;
  }
  return count === 0 ? null : { loss: loss / count, accuracy: correct / count, count };
}

/**
 * Loss and accuracy of the model in eval mode on one split (the first `limit` examples when
 * given); null when the split is empty.
 */
export function evaluateSplit(model: TrainableModel, ds: Dataset, split: SplitName, batchSize: number, limit?: number): SplitEval | null {
  const steps = evaluateSteps(model, ds, split, batchSize, limit);
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
  }
}

/**
 * The paper's early-stopping point from the metric rows: the iteration of minimum validation
 * loss (the earliest one on ties; NaN losses never win) and the test accuracy there.
 * Undefined when there are no finite validation losses, or no test row at that iteration.
 */
export function earlyStopFrom(rows: readonly MetricRow[]): EarlyStop | undefined {
  let best: MetricRow | undefined;
  for (const r of rows) {
    if (r.split !== 'validation' || !Number.isFinite(r.loss)) continue;
    if (!best || r.loss < best.loss || (r.loss === best.loss && r.iteration < best.iteration)) best = r;
  }
  if (!best) return undefined;
  const it = best.iteration;
  const test = rows.find((r) => r.split === 'test' && r.iteration === it);
  if (!test) return undefined;
  return { iteration: it, validationLoss: best.loss, validationAccuracy: best.accuracy, testAccuracy: test.accuracy };
}
