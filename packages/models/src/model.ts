import {
  maskedMatMul,
  nativeConvNetAvailable,
  nativeConvNetForward,
  nativeDenseAvailable,
  nativeDenseForward,
  tf,
  type MaskIndex,
  type Rng,
} from '@lth/compute';
import { isPrunable, type BundleContent, type MaskBundle, type ModelRef, type TensorBundle, type WeightBundle, type WeightRole } from '@lth/artifacts';
import type { z } from 'zod';
import { declareTensors, type LayerSpec, type ModelSpec, type TensorDecl } from './spec';
import { modelSpec } from './zoo';
import { biasAdd, dense } from './dense';
import { makeInference, type Inference } from './inference';
import { sparseLayerIndexes, type SparseLayer, type SparseMode } from './sparse-layers';
import { convChain, denseChain, type ConvChain, type DenseChainStep } from './dense-chain';

/** PyTorch defaults (open_lth trains with nn.BatchNorm2d): running = 0.9 running + 0.1 batch. */
export const BN_MOMENTUM = 0.1;
export const BN_EPSILON = 1e-5;

export interface ApplyOptions {
  /** Dropout on, batch statistics, running averages updated. */
  training: boolean;
  /** Draws the dropout masks (required in training mode when the model has dropout). */
  rng?: Rng;
  /**
   * false: nobody needs the gradient with respect to the input x (training on data), so a
   * first dense layer skips computing it (its x gradient is zeros). Default true, for
   * gradients with respect to inputs (saliency, adversarial examples).
   */
  inputGradient?: boolean;
}

export interface Model {
  ref: ModelRef;
  spec: ModelSpec;
  /** Trainable tensors, keyed by bundle name. */
  params: Map<string, tf.Variable>;
  /** Non-trained state (batch-norm running mean / var), keyed by bundle name. */
  buffers: Map<string, tf.Variable>;
  roles: Map<string, WeightRole>;
  /** The float 0/1 masks last given to applyMask, keyed by param name. */
  masks: Map<string, tf.Tensor>;
  /** Logits [batch, classes] for NHWC float32 input. */
  apply(x: tf.Tensor4D, opts: ApplyOptions): tf.Tensor2D;
  /**
   * An eval-mode forward pass for many batches (one evaluation), valid until the weights
   * change: faster than `apply` per batch where padding puts products on the gemm (see
   * inference.ts). Dispose it when done.
   */
  inference(): Inference;
  /** Multiplies params in place so pruned weights are exactly 0, and remembers the mask. */
  applyMask(mask: MaskBundle): void;
  /** Multiplies params by the remembered mask again (after an optimizer update). */
  reapplyMask(): void;
  /**
   * Sparse products for the dense layers of `mask` that `mode` selects (sparse-layers.ts):
   * each keeps a compressed index of its mask, and `apply` computes x·(W⊙M) and both gradients
   * from the kept weights only, until the next call. The mask must stay what the weights are
   * masked with while it is in use. An undefined mask or 'off' returns to dense products.
   * Returns the layers made sparse (none where the kernels are not available).
   */
  useSparse(mask: TensorBundle | undefined, mode?: SparseMode): SparseLayer[];
  /**
   * The model as a plain chain of dense layers (dense-chain.ts), or null: what a native
   * training step needs to know (@lth/trainer uses one when native products are on).
   */
  denseChain(): DenseChainStep[] | null;
  /** The model as convolutions then a dense chain (dense-chain.ts), or null: the native conv-net step's input. */
  convChain(): ConvChain | null;
  toBundle(content: z.output<typeof BundleContent>, extra?: { iteration?: number }): WeightBundle;
  dispose(): void;
}

function checkBundle(bundle: WeightBundle, decls: TensorDecl[]): void {
  const arch = bundle.meta.model.arch;
  const byName = new Map(bundle.tensors.map((t) => [t.name, t]));
  for (const d of decls) {
    const t = byName.get(d.name);
    if (!t) throw new Error(`weight bundle for '${arch}' lacks tensor '${d.name}' (shape [${d.shape}])`);
    if (t.shape.join() !== d.shape.join())
      throw new Error(`weight bundle for '${arch}': tensor '${d.name}' has shape [${t.shape}], the model needs [${d.shape}]`);
    if (t.values.length !== d.shape.reduce((a, b) => a * b, 1))
      throw new Error(`weight bundle for '${arch}': tensor '${d.name}' has ${t.values.length} values for shape [${t.shape}]`);
  }
  const known = new Set(decls.map((d) => d.name));
  const extra = bundle.tensors.filter((t) => !known.has(t.name)).map((t) => t.name);
  if (extra.length) throw new Error(`weight bundle for '${arch}' has tensors the model does not declare: ${extra.join(', ')}`);
}

/** Builds a model (tf variables) from a weight bundle; the bundle's meta names the architecture. */
export function createModel(bundle: WeightBundle): Model {
  const ref: ModelRef = { arch: bundle.meta.model.arch, options: { ...(bundle.meta.model.options ?? {}) } };
  const spec = modelSpec(ref);
  const decls = declareTensors(spec).tensors;
  checkBundle(bundle, decls);
  const byName = new Map(bundle.tensors.map((t) => [t.name, t]));
  const params = new Map<string, tf.Variable>();
  const buffers = new Map<string, tf.Variable>();
  const roles = new Map<string, WeightRole>();
  const masks = new Map<string, tf.Tensor>();
  let sparse = new Map<string, MaskIndex>();
  for (const d of decls) {
    const t = byName.get(d.name)!;
    // Unnamed variables: tfjs names are global, and several models coexist in one process.
    const init = tf.tensor(t.values, d.shape, 'float32');
    const v = tf.variable(init, d.role !== 'buffer');
    init.dispose();
    (d.role === 'buffer' ? buffers : params).set(d.name, v);
    roles.set(d.name, d.role);
  }
  const get = (name: string): tf.Variable => {
    const v = params.get(name) ?? buffers.get(name);
    if (!v) throw new Error(`model '${ref.arch}': no tensor '${name}'`);
    return v;
  };

  function run(layers: LayerSpec[], input: tf.Tensor, opts: ApplyOptions, fromInput = false): tf.Tensor {
    let x = input;
    // Whether x is still the data (only reshaped, dropped out): no layer with parameters yet.
    let dataOnly = fromInput;
    for (let i = 0; i < layers.length; i++) {
      const l = layers[i]!;
      if (l.kind === 'conv' || l.kind === 'bn' || l.kind === 'residual') dataOnly = false;
      switch (l.kind) {
        case 'conv':
          x = tf.conv2d(x as tf.Tensor4D, get(`${l.name}.weight`) as tf.Tensor4D, l.stride, l.padding);
          if (l.bias) x = biasAdd(x, get(`${l.name}.bias`));
          break;
        case 'bn':
          x = batchNorm(x, l.name, opts.training);
          break;
        case 'relu':
          x = tf.relu(x);
          break;
        case 'maxpool':
          x = tf.maxPool(x as tf.Tensor4D, l.size, l.stride, 'valid');
          break;
        case 'avgpool':
          x = tf.mean(x, [1, 2]);
          break;
        case 'flatten':
          x = tf.reshape(x, [x.shape[0]!, -1]);
          break;
        case 'dense': {
          const w = get(`${l.name}.weight`) as tf.Tensor2D;
          const b = l.bias ? get(`${l.name}.bias`) : undefined;
          const index = sparse.get(`${l.name}.weight`);
          x = index
            ? maskedMatMul(x as tf.Tensor2D, w, index, b as tf.Tensor1D | undefined)
            : dense(x as tf.Tensor2D, w, b, { inputGradient: !(dataOnly && opts.inputGradient === false) });
          dataOnly = false;
          break;
        }
        case 'dropout':
          if (opts.training && l.rate > 0) x = dropout(x, l.rate, opts.rng);
          break;
        case 'residual': {
          const body = run(l.body, x, opts);
          const short = l.shortcut.length ? run(l.shortcut, x, opts) : x;
          x = tf.add(body, short);
          break;
        }
      }
    }
    return x;
  }

  function batchNorm(x: tf.Tensor, name: string, training: boolean): tf.Tensor {
    const gamma = get(`${name}.gamma`);
    const beta = get(`${name}.beta`);
    const runMean = get(`${name}.mean`);
    const runVar = get(`${name}.var`);
    if (!training) return tf.batchNorm(x, runMean, runVar, beta, gamma, BN_EPSILON);
    const axes = x.rank === 4 ? [0, 1, 2] : [0];
    const { mean, variance } = tf.moments(x, axes);
    const n = axes.reduce((a, ax) => a * x.shape[ax]!, 1);
    // PyTorch keeps the unbiased variance in its running average but normalizes with the biased one.
    const unbiased = n > 1 ? tf.mul(variance, n / (n - 1)) : variance;
    runMean.assign(tf.add(tf.mul(runMean, 1 - BN_MOMENTUM), tf.mul(mean, BN_MOMENTUM)));
    runVar.assign(tf.add(tf.mul(runVar, 1 - BN_MOMENTUM), tf.mul(unbiased, BN_MOMENTUM)));
    const xhat = tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, BN_EPSILON)));
    return tf.add(tf.mul(xhat, gamma), beta);
  }

  function dropout(x: tf.Tensor, rate: number, rng: Rng | undefined): tf.Tensor {
    if (!rng) throw new Error(`model '${ref.arch}': apply in training mode with dropout needs opts.rng`);
    const keep = new Float32Array(x.size);
    const scale = 1 / (1 - rate);
    for (let i = 0; i < keep.length; i++) keep[i] = rng.next() >= rate ? scale : 0;
    return tf.mul(x, tf.tensor(keep, x.shape, 'float32'));
  }

  /**
   * With native products, the evaluation of a dense-chain model (@lth/compute's
   * nativeDenseForward: products, bias and ReLU without tfjs kernels between) or of a conv net
   * in convChain's shape (nativeConvNetForward: Conv-2/4/6 without dropout) is one native call
   * per batch. Not while layers run sparse: their kernels are the faster forward there.
   */
  function nativeChainInference(): Inference | null {
    const forward = sparse.size > 0 ? null : nativeForward();
    if (!forward) return null;
    return {
      apply(x) {
        checkInput(x);
        return forward(x);
      },
      dispose() {},
    };
  }

  /** The model's forward pass as one native call, or null where neither native chain fits. */
  function nativeForward(): ((x: tf.Tensor4D) => tf.Tensor2D) | null {
    const fc = (steps: DenseChainStep[]) => steps.map((l) => ({ weight: get(l.weight), bias: l.bias ? get(l.bias) : undefined, relu: l.relu }));
    const dense = nativeDenseAvailable() ? denseChain(spec.layers) : null;
    if (dense) {
      const layers = fc(dense);
      return (x) => nativeDenseForward(x, layers);
    }
    const conv = nativeConvNetAvailable() ? convChain(spec.layers) : null;
    if (!conv) return null;
    const convs = conv.convs.map((c) => ({ weight: get(c.weight), bias: c.bias ? get(c.bias) : undefined, pool: c.pool }));
    const layers = fc(conv.dense);
    return (x) => nativeConvNetForward(x, convs, layers);
  }

  function checkInput(x: tf.Tensor4D): void {
    const [h, w, c] = spec.input;
    if (x.rank !== 4 || x.shape[3] !== c || (spec.layers[0]?.kind === 'flatten' && (x.shape[1] !== h || x.shape[2] !== w))) {
      throw new Error(`model '${ref.arch}': input must be [batch, ${h}, ${w}, ${c}] NHWC, got [${x.shape}]`);
    }
  }

  const model: Model = {
    ref,
    spec,
    params,
    buffers,
    roles,
    masks,
    apply(x, opts) {
      checkInput(x);
      return tf.tidy(() => run(spec.layers, x, opts, true) as tf.Tensor2D);
    },
    inference() {
      const native = nativeChainInference();
      if (native) return native;
      const fwd = makeInference(
        spec.layers,
        get,
        (x, upTo) => run(spec.layers.slice(0, upTo), x, { training: false }),
        (w) => sparse.get(w),
      );
      return {
        apply(x) {
          checkInput(x);
          return fwd.apply(x);
        },
        dispose: () => fwd.dispose(),
      };
    },
    applyMask(mask) {
      const arch = mask.meta.model.arch;
      if (arch !== ref.arch) throw new Error(`mask is for model '${arch}' but the model is '${ref.arch}'`);
      const fresh = new Map<string, tf.Tensor>();
      for (const m of mask.tensors) {
        const p = params.get(m.name);
        if (!p) throw new Error(`mask tensor '${m.name}' names no parameter of '${ref.arch}'`);
        if (!isPrunable(roles.get(m.name)!)) throw new Error(`mask tensor '${m.name}' masks a '${roles.get(m.name)}' tensor, which is not prunable`);
        if (m.shape.join() !== p.shape.join()) throw new Error(`mask tensor '${m.name}' has shape [${m.shape}] but the parameter has [${p.shape}]`);
        fresh.set(m.name, tf.tensor(Float32Array.from(m.values), m.shape, 'float32'));
      }
      for (const t of masks.values()) t.dispose();
      masks.clear();
      for (const [k, t] of fresh) masks.set(k, t);
      model.reapplyMask();
    },
    reapplyMask() {
      tf.tidy(() => {
        for (const [name, m] of masks) {
          const p = params.get(name)!;
          p.assign(tf.mul(p, m));
        }
      });
    },
    useSparse(mask, mode = 'auto') {
      const shapes = new Map(decls.map((d) => [d.name, d.shape]));
      const next = sparseLayerIndexes(spec.layers, shapes, mask, mode);
      for (const index of sparse.values()) index.dispose();
      sparse = next;
      return [...sparse].map(([weight, index]) => ({ weight, density: index.density }));
    },
    denseChain() {
      return denseChain(spec.layers);
    },
    convChain() {
      return convChain(spec.layers);
    },
    toBundle(content, extra = {}) {
      const tensors = decls.map((d) => ({
        name: d.name,
        role: d.role,
        shape: [...d.shape],
        values: Float32Array.from(get(d.name).dataSync() as Float32Array),
      }));
      return {
        meta: { content, model: { arch: ref.arch, options: { ...ref.options } }, ...(extra.iteration !== undefined ? { iteration: extra.iteration } : {}) },
        tensors,
      };
    },
    dispose() {
      for (const v of params.values()) v.dispose();
      for (const v of buffers.values()) v.dispose();
      for (const t of masks.values()) t.dispose();
      masks.clear();
      for (const index of sparse.values()) index.dispose();
      sparse.clear();
    },
  };
  return model;
}
