import type { Dataset, SplitName } from '@lth/artifacts';
import { tf, type Rng } from '@lth/compute';
import { evaluateSteps, type SplitEval } from '@lth/trainer';
import { recomputeBatchNorm } from './batchnorm';
import type { PathModel } from './model';

export type { PathModel } from './model';

/** Tensor values by bundle name: one endpoint of the path. */
export type Endpoint = ReadonlyMap<string, Float32Array>;

/**
 * `points` evenly spaced alpha in [0, 1]: i / (points - 1), so the ends are exactly 0 and 1
 * and the midpoint (odd points) exactly 0.5.
 */
export function alphaGrid(points: number): number[] {
  if (!Number.isInteger(points) || points < 2) throw new Error(`alphaGrid: points must be an integer >= 2, got ${points}`);
  return Array.from({ length: points }, (_, i) => (i === points - 1 ? 1 : i / (points - 1)));
}

export interface PathPoint {
  alpha: number;
  split: SplitName;
  loss: number;
  /** 1 - accuracy. */
  error: number;
  count: number;
}

export interface PathOptions {
  alphas: readonly number[];
  splits: readonly SplitName[];
  /** First N examples of each split (undefined: all). */
  examples?: number | undefined;
  evalBatchSize: number;
  /** Float 0/1 masks by parameter name, applied at every point (pruned weights stay 0). */
  mask?: ReadonlyMap<string, Float32Array> | undefined;
  /** Recompute batch-norm statistics on training data at every point (else interpolate them). */
  batchNorm?: { mode: 'recompute' | 'interpolate'; examples: number; batchSize: number; rng: Rng } | undefined;
  signal?: AbortSignal | undefined;
  /** After each point, its tensors disposed (tests watch tf.memory() here). */
  onPoint?: (alpha: number, index: number) => void;
}

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

function abortError(): Error {
  const e = new Error('instability: path evaluation aborted');
  e.name = 'AbortError';
  return e;
}

/**
 * Loss and error of w(alpha) = (1 - alpha) w_A + alpha w_B for every alpha and split, with the
 * mask applied. Computed as w_A + alpha (w_B - w_A), and as w_A, w_B themselves at alpha 0 and
 * 1, so the ends are exactly the trained networks and two identical networks give exactly the
 * same weights at every alpha. Leaves the model's variables at the last point.
 */
export async function evaluatePath(model: PathModel, a: Endpoint, b: Endpoint, data: Dataset, opts: PathOptions): Promise<PathPoint[]> {
  const recompute = opts.batchNorm?.mode === 'recompute' && (model.buffers?.size ?? 0) > 0;
  const targets = new Map<string, tf.Variable>(model.params);
  if (!recompute) for (const [n, v] of model.buffers ?? []) targets.set(n, v);
  for (const [name, v] of targets) {
    for (const [which, ep] of [
      ['A', a],
      ['B', b],
    ] as const) {
      const values = ep.get(name);
      if (!values) throw new Error(`instability: endpoint ${which} has no tensor '${name}'`);
      if (values.length !== v.size) throw new Error(`instability: endpoint ${which} tensor '${name}' has ${values.length} values, the model ${v.size}`);
    }
  }
  for (const name of opts.mask?.keys() ?? [])
    if (!model.params.has(name)) throw new Error(`instability: mask tensor '${name}' names no parameter of the model`);
  // Per tensor: both ends, their difference and, when masked, where weights are kept and zeros
  // (written with where(), so pruned weights are +0, never -0 or NaN * 0).
  type Held = { a: tf.Tensor; b: tf.Tensor; diff: tf.Tensor; keep?: tf.Tensor; zero?: tf.Tensor };
  const held = new Map<string, Held>();
  const out: PathPoint[] = [];
  let lastTick = Date.now();
  try {
    for (const [name, v] of targets) {
      const ta = tf.tensor(a.get(name) as Float32Array, v.shape, 'float32');
      const tb = tf.tensor(b.get(name) as Float32Array, v.shape, 'float32');
      const m = opts.mask?.get(name);
      const masked = m ? { keep: tf.tidy(() => tf.greater(tf.tensor(m, v.shape, 'float32'), 0)), zero: tf.zeros(v.shape) } : {};
      held.set(name, { a: ta, b: tb, diff: tf.sub(tb, ta), ...masked });
    }
    for (const [index, alpha] of opts.alphas.entries()) {
      if (opts.signal?.aborted) throw abortError();
      tf.tidy(() => {
        for (const [name, v] of targets) {
          const h = held.get(name) as Held;
          const w = alpha === 0 ? h.a : alpha === 1 ? h.b : tf.add(h.a, tf.mul(h.diff, alpha));
          v.assign(h.keep && h.zero ? tf.where(h.keep, w, h.zero) : w);
        }
      });
      if (recompute && opts.batchNorm) recomputeBatchNorm(model, data, opts.batchNorm);
      for (const split of opts.splits) {
        // evaluateSteps uses only apply() of its model.
        const steps = evaluateSteps(model as unknown as Parameters<typeof evaluateSteps>[0], data, split, opts.evalBatchSize, opts.examples);
        let r: IteratorResult<number, SplitEval | null>;
        try {
          for (;;) {
            if (opts.signal?.aborted) throw abortError();
            r = steps.next();
            if (r.done) break;
            if (Date.now() - lastTick >= 50) {
              await tick();
              lastTick = Date.now();
            }
          }
        } finally {
          steps.return(null);
        }
        const e = r.value;
        if (!e) throw new Error(`instability: the '${split}' split is empty`);
        out.push({ alpha, split, loss: e.loss, error: 1 - e.accuracy, count: e.count });
      }
      opts.onPoint?.(alpha, index);
    }
  } finally {
    for (const h of held.values()) {
      h.a.dispose();
      h.b.dispose();
      h.diff.dispose();
      h.keep?.dispose();
      h.zero?.dispose();
    }
  }
  return out;
}

export interface SplitInstability {
  split: SplitName;
  /** Error of the endpoints (alpha 0 = copy A, alpha 1 = copy B). */
  errorA: number;
  errorB: number;
  maxError: number;
  /** The alpha of the maximum error (the smallest on ties). */
  maxAlpha: number;
  /** max error along the path - mean of the endpoints' errors (Frankle et al. 2020). */
  instability: number;
  /** The same for the loss: max loss - mean of the endpoints' losses. */
  lossBarrier: number;
}

/** Instability per split from the path's points (which must include alpha 0 and 1). */
export function instabilityOf(points: readonly PathPoint[]): SplitInstability[] {
  const splits = [...new Set(points.map((p) => p.split))];
  return splits.map((split) => {
    const ps = points.filter((p) => p.split === split).sort((x, y) => x.alpha - y.alpha);
    const first = ps[0];
    const last = ps[ps.length - 1];
    if (!first || !last || first.alpha !== 0 || last.alpha !== 1)
      throw new Error(`instability: the path on '${split}' does not include both ends (alpha 0 and 1)`);
    let max = first;
    for (const p of ps) if (p.error > max.error) max = p;
    const maxLoss = Math.max(...ps.map((p) => p.loss));
    return {
      split,
      errorA: first.error,
      errorB: last.error,
      maxError: max.error,
      maxAlpha: max.alpha,
      instability: max.error - (first.error + last.error) / 2,
      lossBarrier: maxLoss - (first.loss + last.loss) / 2,
    };
  });
}
