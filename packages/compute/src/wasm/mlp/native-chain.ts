import * as tf from '@tensorflow/tfjs-core';
import { nativeFunction } from '../gemm/native';
import { threadCount } from '../threads/settings';
import { heapBuffer, heapOffset, type WasmHeap } from '../native-heap';

/**
 * A chain of dense layers in native code (native/mlp.cc), for `LTH_NATIVE_BLAS=1`: a training
 * step (`nativeDenseStep`) and an eval-mode forward pass (`nativeDenseForward`).
 *
 * The step: forward (x·W + b, ReLU between layers), mean softmax cross-entropy, backward, and
 * the masked Adam or SGD update, written in place into the variables on tfjs-backend-wasm's heap. Why:
 * with the products on OpenBLAS, a LeNet-300-100 step was ~1.3 ms of products inside ~5.7 ms
 * of ~90 tfjs kernel calls (docs/RESULTS.md). It computes what @lth/trainer's step computes
 * (the same formulas in the same order; the optimizer update bit-identical to `adamUpdate` for
 * the same gradient), with OpenBLAS's products, so it is as exact as native products are.
 */

/** A trained tensor of the chain: its variable, its float 0/1 mask, its optimizer slots. */
export interface DenseChainParam {
  value: tf.Variable;
  mask?: tf.Tensor | undefined;
  /** Adam: [m, v]; SGD with momentum: [buffer]; plain SGD: []. Written in place. */
  slots: tf.Variable[];
}

/** One dense layer, x·W (+ b), and whether a ReLU follows it. W is [in, out]. */
export interface DenseChainLayer {
  weight: DenseChainParam;
  bias?: DenseChainParam | undefined;
  relu: boolean;
}

/** The update's scalars, as @lth/trainer's optimizers take them. */
export type NativeStepOptimizer =
  | { type: 'adam'; beta1: number; beta2: number; epsilon: number; stepSize: number; sqrtBc2: number; weightDecay: number }
  | { type: 'sgd'; lr: number; momentum: number; nesterov: boolean; weightDecay: number };

const HEADER = 5;
const LAYER_FIELDS = 9;

/** Whether the native dense chain can run here: native products on, the wasm backend, an addon that has it. */
export function nativeDenseAvailable(): boolean {
  return tf.getBackend() === 'wasm' && nativeFunction('mlpStep') !== null && nativeFunction('mlpForward') !== null;
}

/** The layers' widths: the features per row of a batch of `batch` rows, then each layer's units; checked to chain. */
export function chainDims(batch: number, features: number, layers: readonly { weight: tf.Tensor; bias?: tf.Tensor | undefined }[], who: string): number[] {
  if (!layers.length) throw new Error(`${who}: no layers`);
  const dims = [features, ...layers.map((l) => l.weight.shape[1] ?? 0)];
  layers.forEach((l, i) => {
    const w = l.weight;
    if (w.rank !== 2 || w.shape[0] !== dims[i]) throw new Error(`${who}: layer ${i}'s weight is [${w.shape}], its input has ${dims[i]} features`);
    if (l.bias && l.bias.shape.join() !== String(dims[i + 1])) throw new Error(`${who}: layer ${i}'s bias is [${l.bias.shape}], not [${dims[i + 1]}]`);
  });
  if (batch < 1) throw new Error(`${who}: an empty batch`);
  return dims;
}

/** The features per row of x [batch, ...]. */
const rowFeatures = (x: tf.Tensor) => ((x.shape[0] ?? 0) > 0 ? x.size / x.shape[0]! : 0);

/** The eval-mode logits [batch, classes] of x (float32 [batch, ...], rows flattening to the first layer's inputs). */
export function nativeDenseForward(x: tf.Tensor, layers: readonly { weight: tf.Tensor; bias?: tf.Tensor | undefined; relu: boolean }[]): tf.Tensor2D {
  const forward = nativeFunction('mlpForward');
  if (!forward || tf.getBackend() !== 'wasm') throw new Error('nativeDenseForward: needs LTH_NATIVE_BLAS=1, the built addon and the wasm backend');
  const dims = chainDims(x.shape[0] ?? 0, rowFeatures(x), layers, 'nativeDenseForward');
  const backend = tf.backend() as unknown as WasmHeap;
  const batch = x.shape[0]!;
  const desc = new Uint32Array(4 + dims.length + 3 * layers.length);
  desc.set([batch, layers.length, heapOffset(backend, x), 0]);
  desc.set(dims, 4);
  layers.forEach((l, i) => desc.set([heapOffset(backend, l.weight), heapOffset(backend, l.bias), l.relu ? 1 : 0], 4 + dims.length + 3 * i));
  // Allocate last: growing the wasm memory moves nothing, but detaches views of the old buffer.
  const out = backend.makeOutput([batch, dims[dims.length - 1]!], 'float32');
  try {
    desc[3] = heapOffset(backend, out);
    forward(heapBuffer(backend), desc, threadCount());
  } catch (err) {
    tf.backend().disposeData(out.dataId);
    throw err;
  }
  return tf.engine().makeTensorFromTensorInfo(out) as tf.Tensor2D;
}

/**
 * The step on one batch (x: [batch, ...] float32 whose rows flatten to the first layer's
 * inputs; labels: [batch] int32 class indices). Updates every param and slot in place and
 * returns the batch's mean loss before the update. Throws, changing nothing, on shapes that do
 * not chain or tensors not on the wasm heap.
 */
export function nativeDenseStep(x: tf.Tensor, labels: tf.Tensor, layers: readonly DenseChainLayer[], opt: NativeStepOptimizer): number {
  const step = nativeFunction('mlpStep');
  if (!step || tf.getBackend() !== 'wasm') throw new Error('nativeDenseStep: needs LTH_NATIVE_BLAS=1, the built addon and the wasm backend');
  const dims = chainDims(
    x.shape[0] ?? 0,
    rowFeatures(x),
    layers.map((l) => ({ weight: l.weight.value, bias: l.bias?.value })),
    'nativeDenseStep',
  );
  const batch = x.shape[0]!;
  if (x.dtype !== 'float32' || labels.dtype !== 'int32' || labels.shape.join() !== String(batch))
    throw new Error(
      `nativeDenseStep: x must be float32 [batch, ...] and labels int32 [batch]; got ${x.dtype} [${x.shape}] and ${labels.dtype} [${labels.shape}]`,
    );
  const backend = tf.backend() as unknown as WasmHeap;
  const params = layers.flatMap((l) => (l.bias ? [l.weight, l.bias] : [l.weight]));
  for (const p of params) for (const v of [p.value, ...p.slots]) ownData(v, backend);
  const offset = (t: tf.Tensor | undefined) => heapOffset(backend, t);
  const desc = new Uint32Array(HEADER + dims.length + layers.length * LAYER_FIELDS);
  desc.set([batch, layers.length, offset(x), heapOffset(backend, labels, 'int32'), opt.type === 'adam' ? 0 : 1]);
  desc.set(dims, HEADER);
  layers.forEach((l, i) => {
    const w = l.weight;
    const b = l.bias;
    desc.set([...paramFields(backend, w), ...paramFields(backend, b), l.relu ? 1 : 0], HEADER + dims.length + i * LAYER_FIELDS);
  });
  return step(heapBuffer(backend), desc, optimizerScalars(opt), threadCount());
}

/** The update's scalars as the addon's steps take them (native/chain.h). */
export function optimizerScalars(opt: NativeStepOptimizer): Float64Array {
  const scalars =
    opt.type === 'adam'
      ? [opt.beta1, 1 - opt.beta1, opt.beta2, 1 - opt.beta2, opt.epsilon, opt.stepSize, opt.sqrtBc2, opt.weightDecay]
      : [opt.lr, opt.momentum, opt.nesterov ? 1 : 0, opt.weightDecay];
  return Float64Array.from(scalars);
}

/** A param's four descriptor fields: value, mask, slot 0, slot 1 (heap offsets or NONE). */
export function paramFields(backend: WasmHeap, p: DenseChainParam | undefined): number[] {
  return [heapOffset(backend, p?.value), heapOffset(backend, p?.mask), heapOffset(backend, p?.slots[0]), heapOffset(backend, p?.slots[1])];
}

/**
 * Gives `v` a buffer of its own before it is written in place: tfjs shares one buffer between
 * tensors (reshape, a variable and the tensor it was made from), and writing a shared one would
 * change the others too.
 */
export function ownData(v: tf.Variable, backend: WasmHeap): void {
  if (backend.refCount(v.dataId) <= 1) return;
  const copy = tf.mul(v, 1);
  v.assign(copy);
  copy.dispose();
}
