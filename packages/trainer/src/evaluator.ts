import type { Dataset, MetricRow, SplitName } from '@lth/artifacts';
import { tf } from '@lth/compute';
import type { TrainConfig } from './config';
import { EvalData } from './eval-data';
import { evalForward, evaluateBatches, type EvalForward, type SplitEval } from './evaluate';
import type { TrainableModel } from './types';

export interface EvaluatorOptions {
  /** Device bytes for evaluation batches kept across evaluations (see EvalData). */
  cacheBytes: number;
  /** Called between batches: throws to abort, resolves after yielding to the event loop now and then. */
  pause: () => Promise<void>;
}

/**
 * The evaluations of one training run (trainModel's). At every evaluation: the training
 * sample (when trainEvalExamples > 0), validation, and, with `evaluate.test: 'every'` (the
 * default), test. With 'early-stop-only' the weights of the best validation loss so far (the
 * earliest on ties, NaN never wins: earlyStopFrom's rule) are copied on the device, and
 * `finish()` evaluates test once on them, so the metrics still give the test accuracy at the
 * early-stop iteration. Without any finite validation loss there is no such iteration, and
 * test is evaluated on the last weights instead. `dispose()` releases the kept batches and
 * the copy, also after an abort.
 */
export class Evaluator {
  readonly rows: MetricRow[] = [];
  private readonly data: EvalData;
  private best: { iteration: number; loss: number; weights: Map<string, tf.Tensor> } | undefined;

  constructor(
    private readonly model: TrainableModel,
    private readonly ds: Dataset,
    private readonly cfg: TrainConfig,
    private readonly opts: EvaluatorOptions,
  ) {
    this.data = new EvalData(ds, cfg.evalBatchSize, opts.cacheBytes);
  }

  /** Wall ms spent making evaluation batches so far (part of the evaluations' time). */
  get batchMakingMs(): number {
    return this.data.makingMs;
  }

  private get testEvery(): boolean {
    return this.cfg.evaluate.test === 'every';
  }

  /** Evaluates at `iteration`, appending its rows. */
  async evaluate(iteration: number): Promise<void> {
    const splits: [SplitName, number | undefined][] = [];
    if (this.cfg.trainEvalExamples > 0) splits.push(['train', this.cfg.trainEvalExamples]);
    splits.push(['validation', undefined]);
    if (this.testEvery) splits.push(['test', undefined]);
    const fwd = evalForward(this.model);
    try {
      for (const [split, limit] of splits) {
        const r = await this.run(fwd, split, limit, true);
        if (!r) continue;
        this.rows.push({ iteration, split, loss: r.loss, accuracy: r.accuracy });
        if (split === 'validation' && !this.testEvery) this.consider(iteration, r.loss);
      }
    } finally {
      fwd.dispose();
    }
  }

  /** After the last evaluation: with 'early-stop-only', test on the early-stop weights. */
  async finish(lastIteration: number): Promise<void> {
    if (this.testEvery) return;
    const best = this.best;
    const iteration = best ? best.iteration : lastIteration;
    const current = best ? this.swapIn(best.weights) : undefined;
    let r: SplitEval | null;
    try {
      const fwd = evalForward(this.model);
      try {
        r = await this.run(fwd, 'test', undefined, false);
      } finally {
        fwd.dispose();
      }
    } finally {
      if (current) this.swapIn(current, true);
    }
    if (!r) return;
    const row: MetricRow = { iteration, split: 'test', loss: r.loss, accuracy: r.accuracy };
    // Next to that iteration's other rows, so rows stay in iteration order.
    let at = this.rows.length;
    for (let i = this.rows.length - 1; i >= 0; i--) {
      if (this.rows[i]!.iteration === iteration) {
        at = i + 1;
        break;
      }
    }
    this.rows.splice(at, 0, row);
  }

  dispose(): void {
    this.data.dispose();
    if (this.best) tf.dispose([...this.best.weights.values()]);
    this.best = undefined;
  }

  private async run(fwd: EvalForward, split: SplitName, limit: number | undefined, keep: boolean): Promise<SplitEval | null> {
    const src = this.data.source(split, limit, keep);
    const steps = evaluateBatches(fwd, src.batches, src.owned);
    try {
      for (;;) {
        await this.opts.pause();
        const r = steps.next();
        if (r.done) return r.value;
      }
    } finally {
      steps.return(null);
    }
  }

  /** Every variable eval mode reads: parameters and buffers (batch-norm statistics). */
  private variables(): Map<string, tf.Variable> {
    return new Map([...this.model.params, ...(this.model.buffers ?? [])]);
  }

  private consider(iteration: number, loss: number): void {
    if (!Number.isFinite(loss) || (this.best && !(loss < this.best.loss))) return;
    const weights = new Map<string, tf.Tensor>();
    for (const [name, v] of this.variables()) weights.set(name, tf.clone(v));
    if (this.best) tf.dispose([...this.best.weights.values()]);
    this.best = { iteration, loss, weights };
  }

  /**
   * Assigns `weights` to the model's variables; returns copies of what they held (none when
   * `consume`, which disposes `weights` instead).
   */
  private swapIn(weights: Map<string, tf.Tensor>, consume = false): Map<string, tf.Tensor> | undefined {
    const vars = this.variables();
    const previous = consume ? undefined : new Map<string, tf.Tensor>();
    for (const [name, t] of weights) {
      const v = vars.get(name);
      if (!v) continue;
      previous?.set(name, tf.clone(v));
      v.assign(t);
    }
    if (consume) tf.dispose([...weights.values()]);
    return previous;
  }
}
