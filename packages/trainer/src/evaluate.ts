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

/** Running sums of an evaluation, in float64. */
export interface EvalSums {
  loss: number;
  correct: number;
  count: number;
}

/**
 * Adds one batch's logits (row-major [rows, classes], as read back) to the sums: the
 * cross-entropy logSumExp(z) - z[label] (max-shifted) and whether the first maximal logit is
 * the label's (tfjs argMax's rule). In JS rather than as ~20 small tfjs kernels per batch:
 * reading 500x10 logits back from wasm or cpu is a copy, and this loop took ~4 ms for
 * LeNet's 17,000 images against ~20 ms for the kernels with one read-back per split.
 * Non-finite logits give a NaN (or infinite) loss, as the kernels would.
 */
export function addBatchSums(sums: EvalSums, logits: ArrayLike<number>, labels: ArrayLike<number>, classes: number): void {
  const rows = labels.length;
  if (logits.length !== rows * classes) throw new Error(`evaluation: ${logits.length} logits for ${rows} labels of ${classes} classes`);
  for (let r = 0; r < rows; r++) {
    const o = r * classes;
    let max = logits[o] as number;
    let arg = 0;
    for (let j = 1; j < classes; j++) {
      const z = logits[o + j] as number;
      if (z > max) {
        max = z;
        arg = j;
      }
    }
    let s = 0;
    for (let j = 0; j < classes; j++) s += Math.exp((logits[o + j] as number) - max);
    const y = labels[r] as number;
    sums.loss += max + Math.log(s) - (logits[o + y] as number);
    if (arg === y) sums.correct++;
  }
  sums.count += rows;
}

/**
 * Evaluates batches with `fwd` as a generator that yields after every batch (so a caller can
 * yield to the event loop: abort signals, progress), returning the result, null when there
 * were no examples. `owned`: dispose each batch after use (streamed batches); kept ones
 * belong to their cache.
 */
export function* evaluateBatches(fwd: EvalForward, batches: Iterable<EvalBatch>, owned: boolean): Generator<number, SplitEval | null, undefined> {
  const sums: EvalSums = { loss: 0, correct: 0, count: 0 };
  for (const b of batches) {
    try {
      const logits = fwd.apply(b.x);
      try {
        addBatchSums(sums, logits.dataSync() as Float32Array, b.y.dataSync() as Int32Array, logits.shape[1]);
      } finally {
        logits.dispose();
      }
    } finally {
      if (owned) {
        b.x.dispose();
        b.y.dispose();
      }
    }
    yield sums.count;
  }
  return sums.count === 0 ? null : { loss: sums.loss / sums.count, accuracy: sums.correct / sums.count, count: sums.count };
}

/**
 * The evaluation of one split, streaming its batches from the dataset (see evaluateBatches);
 * the trainer's evaluations keep the batches on the device instead (eval-data.ts).
 */
export function* evaluateSteps(
  model: TrainableModel,
  ds: Dataset,
  split: SplitName,
  batchSize: number,
  limit?: number,
): Generator<number, SplitEval | null, undefined> {
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
