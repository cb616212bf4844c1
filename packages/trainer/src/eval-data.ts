import { splitView, type Dataset, type SplitName } from '@lth/artifacts';
import { tf } from '@lth/compute';
import { evalBatches } from '@lth/data';
import type { EvalBatch } from './evaluate';

/** Default device memory for evaluation batches kept across evaluations: 256 MiB. */
export const DEFAULT_EVAL_CACHE_BYTES = 256 * 2 ** 20;

/** A split's batches for one evaluation; `owned`: the caller disposes each batch after use. */
export interface EvalSource {
  batches: Iterable<EvalBatch>;
  owned: boolean;
}

/**
 * The evaluation batches of one training run. A run evaluates the same images (training
 * sample, validation, test) every evalEvery iterations; making them means normalizing every
 * pixel in JS and uploading it, ~10-20% of an evaluation of LeNet. So each split whose batches
 * fit the remaining budget is kept on the device after its first evaluation (made by the same
 * evalBatches as when streaming, so the numbers do not change); others are streamed as before.
 * MNIST's 17,000 evaluation images take 53 MB. `dispose()` releases everything; an evaluation
 * abandoned while a split was being kept (abort) releases that split's partial batches.
 */
export class EvalData {
  private readonly kept = new Map<string, EvalBatch[]>();
  private free: number;
  /** Wall ms spent making evaluation batches so far (gather, normalize, upload): the trainer's timing phases. */
  makingMs = 0;

  constructor(
    private readonly ds: Dataset,
    private readonly batchSize: number,
    budgetBytes: number,
  ) {
    if (!(budgetBytes >= 0)) throw new Error(`trainer: the evaluation cache budget must be a non-negative number of bytes, got ${budgetBytes}`);
    this.free = budgetBytes;
  }

  /** Device bytes of a split's first `limit` examples as float32 images and int32 labels. */
  bytesOf(split: SplitName, limit?: number): number {
    const [h, w, c] = this.ds.meta.shape;
    return this.count(split, limit) * (h * w * c * 4 + 4);
  }

  /** Bytes kept on the device now. */
  keptBytes(): number {
    let n = 0;
    for (const batches of this.kept.values()) for (const b of batches) n += b.x.size * 4 + b.y.size * 4;
    return n;
  }

  /** The batches of one split (its first `limit` examples) for one evaluation. */
  source(split: SplitName, limit?: number, keep = true): EvalSource {
    const key = `${split}:${this.count(split, limit)}`;
    const have = this.kept.get(key);
    if (have) return { batches: have, owned: false };
    const stream = () => this.timed(evalBatches(this.ds, split, this.batchSize, limit === undefined ? {} : { limit }));
    const bytes = this.bytesOf(split, limit);
    if (!keep || bytes > this.free || bytes === 0) return { batches: stream(), owned: true };
    this.free -= bytes;
    return { batches: this.keeping(key, bytes, stream()), owned: false };
  }

  /** Passes the batches on and keeps them; if abandoned part way, releases what it kept. */
  private *keeping(key: string, bytes: number, batches: Iterable<EvalBatch>): Generator<EvalBatch, void, undefined> {
    const list: EvalBatch[] = [];
    let complete = false;
    try {
      for (const b of batches) {
        list.push(b);
        yield b;
      }
      complete = true;
      this.kept.set(key, list);
    } finally {
      if (!complete) {
        this.free += bytes;
        for (const b of list) tf.dispose([b.x, b.y]);
      }
    }
  }

  /** Passes the batches on, adding the time spent making each to makingMs. */
  private *timed(batches: Iterable<EvalBatch>): Generator<EvalBatch, void, undefined> {
    const it = batches[Symbol.iterator]();
    try {
      for (;;) {
        const t0 = performance.now();
        const r = it.next();
        this.makingMs += performance.now() - t0;
        if (r.done) return;
        yield r.value;
      }
    } finally {
      // Abandoned part way (abort): the source releases what it holds.
      it.return?.();
    }
  }

  dispose(): void {
    for (const batches of this.kept.values()) for (const b of batches) tf.dispose([b.x, b.y]);
    this.kept.clear();
  }

  private count(split: SplitName, limit?: number): number {
    const n = splitView(this.ds, split).count;
    return limit === undefined ? n : Math.min(n, Math.max(0, Math.floor(limit)));
  }
}
