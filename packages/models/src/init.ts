import { createRng, type Rng } from '@lth/random';
import type { ModelRef, WeightBundle } from '@lth/artifacts';
import { declareTensors } from './spec';
import { modelSpec } from './zoo';

/**
 * Seeded Gaussian Glorot initialization: kernels ~ N(0, 2 / (fan_in + fan_out)), with the
 * receptive field counted in both fans for convolutions; biases 0; batch norm gamma 1, beta 0,
 * running mean 0, running var 1. Each tensor draws from its own stream forked by name, so the
 * values of one layer do not depend on the layers before it, and since the numbers come from
 * plain JS the same seed gives byte-identical bundles on every backend.
 */
export function initWeights(ref: ModelRef, seed: number): WeightBundle {
  return { ...drawGlorot(ref, createRng('init', seed)), meta: { content: 'init', model: { arch: ref.arch, options: { ...(ref.options ?? {}) } }, seed } };
}

/**
 * A fresh Glorot draw for the random re-initialization control: the same distribution as
 * `initWeights`, from the 'reinit' stream of (seed, round). It can never equal w0, whatever
 * the two seeds: the streams differ by purpose (see @lth/random createRng).
 */
export function reinitWeights(ref: ModelRef, seed: number, round: number): WeightBundle {
  return {
    ...drawGlorot(ref, createRng('reinit', seed, 'round', round)),
    meta: { content: 'reinit', model: { arch: ref.arch, options: { ...(ref.options ?? {}) } }, seed, iteration: 0 },
  };
}

function drawGlorot(ref: ModelRef, rng: Rng): Pick<WeightBundle, 'tensors'> {
  const spec = modelSpec(ref);
  const tensors = declareTensors(spec).tensors.map((d) => {
    const values = new Float32Array(d.shape.reduce((a, b) => a * b, 1));
    if (d.fanIn !== undefined && d.fanOut !== undefined) {
      rng.fork(d.name).fillNormal(values, Math.sqrt(2 / (d.fanIn + d.fanOut)));
    } else if (d.fill) {
      values.fill(d.fill);
    }
    return { name: d.name, role: d.role, shape: d.shape, values };
  });
  return { tensors };
}
