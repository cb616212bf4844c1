import type { BundleContent, ModelRef, TensorBundle, WeightBundle, WeightRole } from '@lth/artifacts';
import type { Rng, tf } from '@lth/compute';
import type { ConvChain, DenseChainStep, SparseLayer, SparseMode } from '@lth/models';
import type { z } from 'zod';

/**
 * What the training loop needs of a model: the subset of @lth/models' `Model` it uses, so the
 * loop also trains any other model built on tf variables (tests use a small linear one).
 */
export interface TrainableModel {
  ref: ModelRef;
  /** Trainable variables keyed by bundle name. */
  params: Map<string, tf.Variable>;
  roles: Map<string, WeightRole>;
  /**
   * `inputGradient: false` (the training step passes it): nothing needs the gradient with
   * respect to x, so a model may skip computing it (@lth/models skips its first dense layer's).
   */
  apply(x: tf.Tensor4D, opts: { training: boolean; rng?: Rng; inputGradient?: boolean }): tf.Tensor2D;
  /** A faster eval-mode forward for one evaluation (@lth/models' Model has one); optional. */
  inference?(): { apply(x: tf.Tensor4D): tf.Tensor2D; dispose(): void };
  /** Non-trained state that eval mode reads (batch-norm running statistics); optional. */
  buffers?: Map<string, tf.Variable>;
  toBundle(content: z.output<typeof BundleContent>, extra?: { iteration?: number }): WeightBundle;
  /** The model as a plain chain of dense layers, for the native step (native-step.ts); optional. */
  denseChain?(): DenseChainStep[] | null;
  /** The model as convolutions then a dense chain, for the native conv-net step (native-step.ts); optional. */
  convChain?(): ConvChain | null;
  /**
   * Sparse products for masked dense layers while the mask is fixed (@lth/models' Model has
   * them); an undefined mask drops them. Optional.
   */
  useSparse?(mask: TensorBundle | undefined, mode?: SparseMode): SparseLayer[];
  dispose(): void;
}

/** Thrown when the abort signal fires; the name matches DOM's AbortError so callers can test it. */
export class TrainingAborted extends Error {
  constructor(readonly iteration: number) {
    super(`training aborted at iteration ${iteration}`);
    this.name = 'AbortError';
  }
}
