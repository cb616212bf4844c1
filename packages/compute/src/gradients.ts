import * as tf from '@tensorflow/tfjs-core';

/**
 * tfjs-core's CommonJS bundle (what `require('@tensorflow/tfjs-core')` loads in Node) registers
 * no gradient functions at all: they live in an ESM-only file that Node cannot load. The
 * tfjs-layers Node bundle carries a copy of them and registers them in the global registry
 * shared by every copy of tfjs-core, so loading it once makes tf.grads / optimizers work.
 */
export function registerGradients(): void {
  if (tf.getGradient('Conv2D') && tf.getGradient('Relu')) return;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    require('@tensorflow/tfjs-layers');
  } catch (err) {
    throw new Error(
      `@lth/compute: tfjs gradients are not registered and @tensorflow/tfjs-layers (which registers them) cannot be loaded: ${(err as Error).message.split('\n')[0]}`,
      { cause: err },
    );
  }
  if (!tf.getGradient('Conv2D')) throw new Error('@lth/compute: loading @tensorflow/tfjs-layers did not register the tfjs gradients');
}
