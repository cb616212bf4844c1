import { tf } from '@lth/compute';

/**
 * x·W (+ b) with a hand-written gradient that transposes explicitly. tfjs-backend-wasm 4.22 runs
 * BatchMatMul with transposeA/transposeB flags about 8x slower than a plain product of an
 * explicitly transposed operand (measured here: [60,784]^T·[60,300] 16.9 ms vs 0.2 + 2.2 ms),
 * and tfjs' own matMul gradient uses those flags; on LeNet-300-100 that was most of a step.
 * The input gradient is (W·dy^T)^T rather than dy·W^T: the big operand W is then the left one,
 * streamed once, instead of being transposed and then packed as XNNPACK's weights for a product
 * with only batch-size rows (bit-identical; Conv-2's fc1, 16384x256: 48 -> 23 ms, and faster
 * for every LeNet/Conv layer measured).
 */
function inputGrad(d: tf.Tensor2D, w: tf.Tensor2D): tf.Tensor2D {
  return tf.transpose(tf.matMul(w, tf.transpose(d))) as tf.Tensor2D;
}

/**
 * The dense op as a custom gradient. `inputGradient: false` returns zeros for x's gradient instead
 * of computing it: tfjs runs a customGrad's gradFunc whole even where backpropagation does not
 * need every input's gradient (registered gradients are lazy, these are not), and a network's
 * first dense layer, whose input is the data, needs none. On LeNet-300-100 that is fc1's
 * [784,300]x[300,60] product and two transposes of every training step.
 */
function makeDense(bias: boolean, inputGradient: boolean) {
  return tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [x, w] = args as [tf.Tensor2D, tf.Tensor2D];
    const b = bias ? (args[2] as tf.Tensor1D) : undefined;
    const save = args[args.length - 1] as tf.GradSaveFunc;
    save([x, w]);
    return {
      value: b ? tf.fused.matMul({ a: x, b: w, bias: b }) : tf.matMul(x, w),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xs, ws] = saved as [tf.Tensor2D, tf.Tensor2D];
        const d = dy as tf.Tensor2D;
        const dx = inputGradient ? inputGrad(d, ws) : tf.zerosLike(xs);
        const dw = tf.matMul(tf.transpose(xs), d);
        return b ? [dx, dw, tf.sum(d, 0)] : [dx, dw];
      },
    };
  });
}

const DENSE = {
  withBias: makeDense(true, true),
  noBias: makeDense(false, true),
  withBiasNoInputGrad: makeDense(true, false),
  noBiasNoInputGrad: makeDense(false, false),
};

/**
 * x·W (+ b). `inputGradient: false` (the first dense layer of a network trained on data) gives
 * a zero gradient for x rather than computing it; W's and b's gradients are the same either way.
 */
export function dense(x: tf.Tensor2D, w: tf.Tensor2D, b?: tf.Tensor, opts: { inputGradient?: boolean } = {}): tf.Tensor2D {
  const full = opts.inputGradient ?? true;
  if (b) return (full ? DENSE.withBias : DENSE.withBiasNoInputGrad)(x, w, b) as tf.Tensor2D;
  return (full ? DENSE.noBias : DENSE.noBiasNoInputGrad)(x, w) as tf.Tensor2D;
}

/**
 * x + b over the last axis, with the bias gradient as ones[1,N]·dy[N,C]. tfjs reduces the
 * broadcast gradient with Sum over axes [0,1,2], which wasm runs as a transpose plus a reduction:
 * 49 ms for a [60,32,32,64] Conv-2 activation against 1.5 ms for the product.
 */
const biasAddOp = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const [x, b] = args as [tf.Tensor, tf.Tensor1D];
  return {
    value: tf.add(x, b),
    gradFunc: (dy: tf.Tensor) => {
      const c = dy.shape[dy.rank - 1]!;
      const n = dy.size / c;
      return [dy, tf.reshape(tf.matMul(tf.ones([1, n]), tf.reshape(dy, [n, c])), [c])];
    },
  };
});

export function biasAdd<T extends tf.Tensor>(x: T, b: tf.Tensor): T {
  return biasAddOp(x, b) as T;
}
