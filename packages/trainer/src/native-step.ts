import { nativeConvNetAvailable, nativeConvNetStep, nativeDenseStep, nativeDenseAvailable, tf, type DenseChainLayer, type DenseChainParam } from '@lth/compute';
import type { Batch } from '@lth/data';
import type { ConvChain, DenseChainStep } from '@lth/models';
import type { MaskedOptimizer } from './optimizers';
import type { TrainableModel } from './types';

/** One training step on a batch at learning rate lr; returns the batch's loss (the caller disposes it). */
export type TrainingStep = (batch: Batch, lr: number) => tf.Scalar;

/**
 * The training step as one native call, where it computes what the tfjs step computes: native
 * products on (LTH_NATIVE_BLAS=1, the addon built, wasm), no layer on the sparse kernels, and a
 * model that is either a plain dense chain (@lth/models' denseChain: LeNet-300-100; @lth/compute's
 * nativeDenseStep) or convolutions then a dense chain (convChain: Conv-2/4/6 without dropout;
 * nativeConvNetStep), whose every param is in the chain. Else null, and the loop runs tfjs'
 * step. `LTH_NATIVE_STEP=0` keeps the tfjs step with native products (to compare the two).
 *
 * Why: with native products, a LeNet-300-100 step was ~1.3 ms of OpenBLAS inside ~5.7 ms of
 * ~90 tfjs kernel calls, and a Conv-2 step still spent ~60% in the convolutions' wasm
 * transforms and the kernels around them (@lth/trainer's README, "Where the time goes").
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
  const dense = (steps: DenseChainStep[]): DenseChainLayer[] =>
    steps.map((l) => ({ weight: param(l.weight), bias: l.bias ? param(l.bias) : undefined, relu: l.relu }));
  if (chain.kind === 'dense') {
    const layers = dense(chain.dense);
    return (batch, lr) => tf.scalar(nativeDenseStep(batch.x, batch.y, layers, optimizer.nextUpdate(lr)));
  }
  const convs = chain.convs.map((c) => ({ weight: param(c.weight), bias: c.bias ? param(c.bias) : undefined, pool: c.pool }));
  const layers = dense(chain.dense);
  return (batch, lr) => tf.scalar(nativeConvNetStep(batch.x, batch.y, convs, layers, optimizer.nextUpdate(lr)));
}

/** What the native step trains: a dense chain, or convolutions then a dense chain. */
export type NativeChain = { kind: 'dense'; dense: DenseChainStep[] } | ({ kind: 'conv' } & ConvChain);

/**
 * The model's chain when a native step can train it (native products on, not turned off by
 * LTH_NATIVE_STEP=0, a chain that holds every param), else null. Also what `sparse: auto`
 * asks: the native step is faster than the sparse kernels at every density measured.
 */
export function nativeChain(model: TrainableModel): NativeChain | null {
  if (process.env['LTH_NATIVE_STEP'] === '0') return null;
  const dense = nativeDenseAvailable() ? model.denseChain?.() : null;
  const conv = !dense && nativeConvNetAvailable() ? model.convChain?.() : null;
  const chain: NativeChain | null = dense ? { kind: 'dense', dense } : conv ? { kind: 'conv', ...conv } : null;
  if (!chain) return null;
  const layers = chain.kind === 'conv' ? [...chain.convs, ...chain.dense] : chain.dense;
  const names = layers.flatMap((l) => (l.bias ? [l.weight, l.bias] : [l.weight]));
  return names.length === model.params.size && names.every((n) => model.params.has(n)) ? chain : null;
}
