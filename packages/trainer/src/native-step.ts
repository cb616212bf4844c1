import { nativeDenseStep, nativeDenseAvailable, tf, type DenseChainLayer, type DenseChainParam } from '@lth/compute';
import type { Batch } from '@lth/data';
import type { DenseChainStep } from '@lth/models';
import type { MaskedOptimizer } from './optimizers';
import type { TrainableModel } from './types';

/** One training step on a batch at learning rate lr; returns the batch's loss (the caller disposes it). */
export type TrainingStep = (batch: Batch, lr: number) => tf.Scalar;

/**
 * The training step as one native call (@lth/compute's nativeDenseStep: forward, loss,
 * gradients and the masked update in place), where it computes what the tfjs step computes:
 * native products on (LTH_NATIVE_BLAS=1, the addon built, wasm), a model that is a plain dense
 * chain (@lth/models' denseChain: LeNet-300-100) whose every param is in the chain, and no
 * layer on the sparse kernels. Else null, and the loop runs tfjs' step. `LTH_NATIVE_STEP=0`
 * keeps the tfjs step with native products (to compare the two).
 *
 * Why: with native products, a LeNet-300-100 step was ~1.3 ms of OpenBLAS inside ~5.7 ms of
 * ~90 tfjs kernel calls (@lth/trainer's README, "Where the time goes").
 *
 * `sparse: auto` therefore keeps such a model's layers dense (train.ts): measured on MNIST with
 * LeNet-300-100 at 8.6%, 6.9% and 3.5% of fc weights kept, the sparse kernels' step took
 * 6.6-6.8, 6.1 and 4.6-5.4 ms against the native step's 2.0-2.6 ms.
 */
export function nativeTrainingStep(
  model: TrainableModel,
  optimizer: MaskedOptimizer,
  masks: ReadonlyMap<string, tf.Tensor>,
  sparseLayers: number,
): TrainingStep | null {
  const chain = sparseLayers > 0 ? null : nativeChain(model);
  if (!chain) return null;
  const param = (name: string): DenseChainParam => ({ value: model.params.get(name) as tf.Variable, mask: masks.get(name), slots: optimizer.slots(name) });
  const layers: DenseChainLayer[] = chain.map((l) => ({ weight: param(l.weight), bias: l.bias ? param(l.bias) : undefined, relu: l.relu }));
  return (batch, lr) => tf.scalar(nativeDenseStep(batch.x, batch.y, layers, optimizer.nextUpdate(lr)));
}

/**
 * The model's dense chain when the native step can train it (native products on, not turned
 * off by LTH_NATIVE_STEP=0, a chain that holds every param), else null. Also what `sparse:
 * auto` asks: the native step is faster than the sparse kernels at every density measured.
 */
export function nativeChain(model: TrainableModel): DenseChainStep[] | null {
  if (process.env['LTH_NATIVE_STEP'] === '0' || !nativeDenseAvailable()) return null;
  const chain = model.denseChain?.();
  if (!chain) return null;
  const names = chain.flatMap((l) => (l.bias ? [l.weight, l.bias] : [l.weight]));
  return names.length === model.params.size && names.every((n) => model.params.has(n)) ? chain : null;
}
