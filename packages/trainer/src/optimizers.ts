import { adamUpdate, tf, type NativeStepOptimizer } from '@lth/compute';
import type { OptimizerConfig } from './config';

export interface OptimizerOptions {
  /** L2 penalty added to the gradient before the update (PyTorch's weight_decay). */
  weightDecay?: number;
  /** Float 0/1 masks keyed by param name; masked params are held at exactly 0. */
  masks?: ReadonlyMap<string, tf.Tensor>;
}

/**
 * Adam or SGD over named tf variables, enforcing masks: the gradient is multiplied by the mask
 * before the update (so Adam's moments and SGD's momentum stay 0 for pruned weights) and the
 * weights after it (so rounding or decay can never revive a pruned weight). All state lives in
 * tf.Variables updated with `assign`, so memory stays flat across steps.
 */
export interface MaskedOptimizer {
  /** Steps taken so far (Adam's bias-correction counter). */
  readonly steps: number;
  /** One update with learning rate `lr`; params without a gradient are left alone (as PyTorch). */
  step(grads: ReadonlyMap<string, tf.Tensor> | Record<string, tf.Tensor>, lr: number): void;
  /**
   * Counts a step that another implementation applies (the native dense step, native-step.ts)
   * and returns its scalars, the ones `step` would use; the slots are updated by that caller.
   */
  nextUpdate(lr: number): NativeStepOptimizer;
  /** The optimizer state of one param (Adam: [m, v]; SGD with momentum: [buffer]; else []). */
  slots(name: string): tf.Variable[];
  dispose(): void;
}

function gradOf(grads: ReadonlyMap<string, tf.Tensor> | Record<string, tf.Tensor>, name: string): tf.Tensor | undefined {
  return grads instanceof Map ? grads.get(name) : (grads as Record<string, tf.Tensor>)[name];
}

/**
 * w * mask, with pruned entries +0: a negative weight times 0 is -0, and adding +0 turns it
 * into +0 so that pruned weights are bit-identical zeros in saved bundles (stable hashes).
 */
export function applyMask(w: tf.Tensor, mask: tf.Tensor): tf.Tensor {
  return tf.add(tf.mul(w, mask), 0);
}

export function createOptimizer(cfg: OptimizerConfig, params: ReadonlyMap<string, tf.Variable>, opts: OptimizerOptions = {}): MaskedOptimizer {
  const wd = opts.weightDecay ?? 0;
  const masks = opts.masks ?? new Map<string, tf.Tensor>();
  for (const [name, m] of masks) {
    const p = params.get(name);
    if (!p) throw new Error(`optimizer: mask '${name}' names no parameter`);
    if (m.shape.join() !== p.shape.join()) throw new Error(`optimizer: mask '${name}' has shape [${m.shape}] but the parameter has [${p.shape}]`);
  }
  const state = new Map<string, tf.Variable[]>();
  // Inside tidy, so the zeros tensor is released and only the variable holds the buffer.
  const zeros = (p: tf.Variable) => tf.tidy(() => tf.variable(tf.zerosLike(p), false));
  for (const [name, p] of params) {
    if (cfg.type === 'adam') state.set(name, [zeros(p), zeros(p)]);
    else state.set(name, cfg.momentum > 0 ? [zeros(p)] : []);
  }
  let steps = 0;

  const checkLr = (lr: number) => {
    if (!Number.isFinite(lr) || lr < 0) throw new Error(`optimizer: learning rate must be a finite non-negative number, got ${lr}`);
  };
  /** Adam's scalars at step t, in PyTorch's form (corrections in float64). */
  const adamScalars = (lr: number, t: number) => {
    if (cfg.type !== 'adam') throw new Error('optimizer: not Adam');
    return {
      beta1: cfg.beta1,
      beta2: cfg.beta2,
      epsilon: cfg.epsilon,
      stepSize: lr / (1 - cfg.beta1 ** t),
      sqrtBc2: Math.sqrt(1 - cfg.beta2 ** t),
      weightDecay: wd,
    };
  };

  function update(name: string, p: tf.Variable, g0: tf.Tensor, lr: number, t: number): void {
    const mask = masks.get(name);
    const slots = state.get(name) ?? [];
    if (cfg.type === 'adam') {
      const [m, v] = slots as [tf.Variable, tf.Variable];
      // PyTorch's form: w -= (lr / bc1) * m / (sqrt(v) / sqrt(bc2) + eps); corrections in float64.
      // One fused pass on wasm (bit-identical to the ops; fc layers have millions of weights).
      const next = adamUpdate(p, m, v, g0, mask, adamScalars(lr, t));
      m.assign(next.m);
      v.assign(next.v);
      p.assign(next.p);
      return;
    }
    let g = wd > 0 ? tf.add(g0, tf.mul(p, wd)) : g0;
    if (mask) g = tf.mul(g, mask);
    let d = g;
    if (cfg.momentum > 0) {
      const buf = slots[0] as tf.Variable;
      buf.assign(tf.add(tf.mul(buf, cfg.momentum), g));
      d = cfg.nesterov ? tf.add(g, tf.mul(buf, cfg.momentum)) : buf;
    }
    const next = tf.sub(p, tf.mul(d, lr));
    p.assign(mask ? applyMask(next, mask) : next);
  }

  return {
    get steps() {
      return steps;
    },
    step(grads, lr) {
      checkLr(lr);
      steps++;
      const t = steps;
      tf.tidy(() => {
        for (const [name, p] of params) {
          const g = gradOf(grads, name);
          if (g) update(name, p, g, lr, t);
        }
      });
    },
    nextUpdate(lr) {
      checkLr(lr);
      steps++;
      if (cfg.type === 'adam') return { type: 'adam', ...adamScalars(lr, steps) };
      return { type: 'sgd', lr, momentum: cfg.momentum, nesterov: cfg.nesterov, weightDecay: wd };
    },
    slots(name) {
      const s = state.get(name);
      if (!s) throw new Error(`optimizer: no parameter '${name}'`);
      return s;
    },
    dispose() {
      for (const s of state.values()) for (const v of s) v.dispose();
      state.clear();
    },
  };
}
