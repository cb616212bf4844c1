import * as tf from '@tensorflow/tfjs-core';
import { nativeFunction } from '../gemm/native';
import { chainDims, optimizerScalars, ownData, paramFields, type DenseChainLayer, type DenseChainParam, type NativeStepOptimizer } from '../mlp/native-chain';
import { heapBuffer, heapOffset, type WasmHeap } from '../native-heap';
import { threadCount } from '../threads/settings';

/**
 * A conv net's training step in native code (native/convnet.cc), for `LTH_NATIVE_BLAS=1`: 3x3
 * 'same' convolutions (filters HWIO [3, 3, in, out], tfjs' layout) with bias, each followed by
 * ReLU and optionally a 2x2 stride-2 max-pool, then a dense chain (as nativeDenseStep's), mean
 * softmax cross-entropy, and the masked Adam or SGD update in place. The paper's Conv-2/4/6
 * without dropout have this shape.
 *
 * Why: with native products, the tfjs step of Conv-2 still spent ~60% of its time in the
 * convolutions' wasm transforms, XNNPACK's first layer and the kernels around them (the compute
 * README, "Conv-2"). The first convolution is an im2col product; the others are Winograd
 * F(4x4, 3x3), as the wasm kernels compute them (conv/winograd.ts), with the 36 point products
 * as independent tasks on the stage's threads. Every split is fixed by the shapes, so the result
 * does not depend on the thread budget.
 */

/** One convolution of the net and whether a 2x2 max-pool follows its ReLU. */
export interface ConvNetLayer {
  weight: DenseChainParam;
  bias?: DenseChainParam | undefined;
  pool: boolean;
}

const HEADER = 9;
const CONV_FIELDS = 10;
const DENSE_FIELDS = 9;
const FORWARD_HEADER = 8;

/** Whether the native conv-net step and forward can run here: native products on, the wasm backend, an addon that has them. */
export function nativeConvNetAvailable(): boolean {
  return tf.getBackend() === 'wasm' && nativeFunction('convStep') !== null && nativeFunction('convForward') !== null;
}

/** A convolution as the forward pass takes it (plain tensors). */
interface ConvShapeLayer {
  weight: tf.Tensor;
  bias?: tf.Tensor | undefined;
  pool: boolean;
}

/** x's shape, checked to be float32 NHWC. */
function imageShape(x: tf.Tensor, who: string): [number, number, number, number] {
  if (x.rank !== 4 || x.dtype !== 'float32') throw new Error(`${who}: x must be float32 [batch, height, width, channels]; got ${x.dtype} [${x.shape}]`);
  return x.shape as [number, number, number, number];
}

/** The features per image after the convolutions of images [height, width, channels], their shapes checked to chain. */
function convFeatures(height: number, width: number, channels: number, convs: readonly ConvShapeLayer[], who: string): number {
  if (!convs.length) throw new Error(`${who}: no convolutions`);
  let [h, w, c] = [height, width, channels];
  convs.forEach((l, i) => {
    const s = l.weight.shape;
    if (s.length !== 4 || s[0] !== 3 || s[1] !== 3 || s[2] !== c) throw new Error(`${who}: convolution ${i}'s filter is [${s}], not [3, 3, ${c}, filters]`);
    const filters = s[3]!;
    if (l.bias && l.bias.shape.join() !== String(filters)) throw new Error(`${who}: convolution ${i}'s bias is [${l.bias.shape}], not [${filters}]`);
    if (l.pool) [h, w] = [Math.floor(h / 2), Math.floor(w / 2)];
    c = filters;
  });
  return h * w * c;
}

/** The eval-mode logits [batch, classes] of x (float32 NHWC) through the convolutions and the dense chain. */
export function nativeConvNetForward(
  x: tf.Tensor,
  convs: readonly ConvShapeLayer[],
  dense: readonly { weight: tf.Tensor; bias?: tf.Tensor | undefined; relu: boolean }[],
): tf.Tensor2D {
  const forward = nativeFunction('convForward');
  if (!forward || tf.getBackend() !== 'wasm') throw new Error('nativeConvNetForward: needs LTH_NATIVE_BLAS=1, the built addon and the wasm backend');
  const [batch, height, width, channels] = imageShape(x, 'nativeConvNetForward');
  const dims = chainDims(batch, convFeatures(height, width, channels, convs, 'nativeConvNetForward'), dense, 'nativeConvNetForward');
  const backend = tf.backend() as unknown as WasmHeap;
  const desc = new Uint32Array(FORWARD_HEADER + convs.length * 4 + dims.length + dense.length * 3);
  desc.set([batch, height, width, channels, convs.length, dense.length, heapOffset(backend, x), 0]);
  convs.forEach((l, i) => desc.set([l.weight.shape[3]!, l.pool ? 1 : 0, heapOffset(backend, l.weight), heapOffset(backend, l.bias)], FORWARD_HEADER + 4 * i));
  const denseAt = FORWARD_HEADER + convs.length * 4;
  desc.set(dims, denseAt);
  dense.forEach((l, i) => desc.set([heapOffset(backend, l.weight), heapOffset(backend, l.bias), l.relu ? 1 : 0], denseAt + dims.length + 3 * i));
  // Allocate last: growing the wasm memory moves nothing, but detaches views of the old buffer.
  const out = backend.makeOutput([batch, dims[dims.length - 1]!], 'float32');
  try {
    desc[7] = heapOffset(backend, out);
    forward(heapBuffer(backend), desc, threadCount());
  } catch (err) {
    tf.backend().disposeData(out.dataId);
    throw err;
  }
  return tf.engine().makeTensorFromTensorInfo(out) as tf.Tensor2D;
}

/**
 * The step on one batch (x: float32 [batch, height, width, channels] NHWC; labels: int32
 * [batch] class indices). Updates every param and slot in place and returns the batch's mean
 * loss before the update. Throws, changing nothing, on shapes that do not chain or tensors not
 * on the wasm heap.
 */
export function nativeConvNetStep(
  x: tf.Tensor,
  labels: tf.Tensor,
  convs: readonly ConvNetLayer[],
  dense: readonly DenseChainLayer[],
  opt: NativeStepOptimizer,
): number {
  const step = nativeFunction('convStep');
  if (!step || tf.getBackend() !== 'wasm') throw new Error('nativeConvNetStep: needs LTH_NATIVE_BLAS=1, the built addon and the wasm backend');
  const [batch, height, width, channels] = imageShape(x, 'nativeConvNetStep');
  if (labels.dtype !== 'int32' || labels.shape.join() !== String(batch))
    throw new Error(`nativeConvNetStep: labels must be int32 [${batch}]; got ${labels.dtype} [${labels.shape}]`);
  const features = convFeatures(
    height,
    width,
    channels,
    convs.map((l) => ({ weight: l.weight.value, bias: l.bias?.value, pool: l.pool })),
    'nativeConvNetStep',
  );
  const dims = chainDims(
    batch,
    features,
    dense.map((l) => ({ weight: l.weight.value, bias: l.bias?.value })),
    'nativeConvNetStep',
  );
  const backend = tf.backend() as unknown as WasmHeap;
  const params = [...convs, ...dense].flatMap((l) => (l.bias ? [l.weight, l.bias] : [l.weight]));
  for (const p of params) for (const v of [p.value, ...p.slots]) ownData(v, backend);
  const desc = new Uint32Array(HEADER + convs.length * CONV_FIELDS + dims.length + dense.length * DENSE_FIELDS);
  desc.set([
    batch,
    height,
    width,
    channels,
    convs.length,
    dense.length,
    heapOffset(backend, x),
    heapOffset(backend, labels, 'int32'),
    opt.type === 'adam' ? 0 : 1,
  ]);
  convs.forEach((l, i) => {
    desc.set([l.weight.value.shape[3]!, l.pool ? 1 : 0, ...paramFields(backend, l.weight), ...paramFields(backend, l.bias)], HEADER + i * CONV_FIELDS);
  });
  const denseAt = HEADER + convs.length * CONV_FIELDS;
  desc.set(dims, denseAt);
  dense.forEach((l, i) => {
    desc.set([...paramFields(backend, l.weight), ...paramFields(backend, l.bias), l.relu ? 1 : 0], denseAt + dims.length + i * DENSE_FIELDS);
  });
  const loss = step(heapBuffer(backend), desc, optimizerScalars(opt), threadCount());
  // tfjs-backend-wasm keeps an XNNPACK convolution per filter tensor (the first conv, whose 3
  // channels our Winograd kernel leaves to XNNPACK), with the filter packed when it was made: it
  // would go on using the weights from before this in-place update. A copy gives each filter a
  // new tensor, and disposing the old one drops the stale operator (Conv-2: 39K floats a step).
  tf.tidy(() => {
    for (const l of convs) l.weight.value.assign(tf.mul(l.weight.value, 1));
  });
  return loss;
}
