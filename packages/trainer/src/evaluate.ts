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

/** One evaluation batch: normalized images and integer labels. */
export interface EvalBatch {
  x: tf.Tensor4D;
  y: tf.Tensor1D;
}

/** The forward pass an evaluation runs: `model.inference()` where the model has one. */
export interface EvalForward {
  apply(x: tf.Tensor4D): tf.Tensor2D;
  dispose(): void;
}

/**
 * An eval-mode forward pass for one evaluation: the model's `inference()` (padded products,
 * no gradient wrappers; @lth/models) when it has one, else `apply` in eval mode.
 */
export function evalForward(model: TrainableModel): EvalForward {
  if (model.inference) return model.inference();
  return { apply: (x) => model.apply(x, { training: false }), dispose: () => {} };
}

/**
 * [summed cross-entropy, number correct] of one batch, on the device. The loss is
 * logSumExp(logits) minus the label's logit (gathered through flat indices: tfjs-wasm's gather
 * with batchDims reads out of bounds), the same quantity as crossEntropy() without its one-hot
 * product and log-softmax matrix.
 */
export function batchSums(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Tensor1D {
  return tf.tidy(() => {
    const [n, classes] = logits.shape;
    const y = tf.cast(labels, 'int32');
    const flat = tf.add(tf.mul(tf.range(0, n, 1, 'int32'), tf.scalar(classes, 'int32')), y);
    const picked = tf.gather(tf.reshape(logits, [-1]), flat);
    const loss = tf.sum(tf.sub(tf.logSumExp(logits, 1), picked));
    const correct = tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), y), 'float32'));
    return tf.stack([loss, correct]) as tf.Tensor1D;
  });
}

/**
 * Evaluates batches with `fwd` as a generator that yields after every batch (so a caller can
 * yield to the event loop: abort signals, progress), returning the result, null when there
 * were no examples. Per-batch sums stay on the device and are read back once at the end,
 * then added in float64 in batch order. `owned`: dispose each batch after use (streamed
 * batches); cached ones belong to their cache.
 */
export function* evaluateBatches(fwd: EvalForward, batches: Iterable<EvalBatch>, owned: boolean): Generator<number, SplitEval | null, undefined> {
  const sums: tf.Tensor1D[] = [];
  let count = 0;
  try {
    for (const b of batches) {
      try {
        sums.push(
          tf.tidy(() => {
            const logits = fwd.apply(b.x);
            return batchSums(logits, b.y);
          }),
        );
        count += b.y.shape[0];
      } finally {
        if (owned) {
          b.x.dispose();
          b.y.dispose();
        }
      }
      yield count;
    }
    if (count === 0) return null;
    const all = tf.tidy(() => tf.stack(sums));
    const values = all.dataSync() as Float32Array;
    all.dispose();
    let loss = 0;
    let correct = 0;
    for (let i = 0; i < sums.length; i++) {
      loss += values[2 * i] as number;
      correct += values[2 * i + 1] as number;
    }
    return { loss: loss / count, accuracy: correct / count, count };
  } finally {
    tf.dispose(sums);
  }
}

/**
 * The evaluation of one split, streaming its batches from the dataset (see evaluateBatches);
 * the trainer's evaluations keep the batches on the device instead (eval-data.ts).
 */
export function* evaluateSteps(model: TrainableModel, ds: Dataset, split: SplitName, batchSize: number, limit?: number): Generator<number, SplitEval | null, undefined> {
  const fwd = evalForward(model);
  try {
    return yield* evaluateBatches(fwd, evalBatches(ds, split, batchSize, limit === undefined ? {} : { limit }), true);
  } finally {
    fwd.dispose();
  }
}

/**
 * Loss and accuracy of the model in eval mode on one split (the first `limit` examples when
 * given); null when the split is empty.
 */
export function evaluateSplit(model: TrainableModel, ds: Dataset, split: SplitName, batchSize: number, limit?: number): SplitEval | null {
  return drain(evaluateSteps(model, ds, split, batchSize, limit));
}

/** Runs a stepwise evaluation to its end. */
export function drain<T>(steps: Generator<number, T, undefined>): T {
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
