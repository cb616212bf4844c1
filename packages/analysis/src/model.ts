import type { Rng, tf } from '@lth/compute';

/**
 * What the path evaluation needs of a model: tf variables for the parameters and (optionally)
 * buffers, and a forward pass. @lth/models' Model fits; tests use a small linear one. (Its own
 * file: path.ts and batchnorm.ts both use it, and path.ts imports batchnorm.ts.)
 */
export interface PathModel {
  params: Map<string, tf.Variable>;
  /** Batch-norm running statistics (the only buffers of the model zoo). */
  buffers?: Map<string, tf.Variable>;
  apply(x: tf.Tensor4D, opts: { training: boolean; rng?: Rng }): tf.Tensor2D;
}
