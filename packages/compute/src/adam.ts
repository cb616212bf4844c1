import * as tf from '@tensorflow/tfjs-core';
import type { TensorInfo } from '@tensorflow/tfjs-core';
import { adamSimdFor, type WasmMemory } from './wasm/adam-simd';

/** Scalars of one Adam step, in PyTorch's form (see `adamUpdate`). */
export interface AdamScalars {
  beta1: number;
  beta2: number;
  epsilon: number;
  /** lr / (1 - beta1^t) */
  stepSize: number;
  /** sqrt(1 - beta2^t) */
  sqrtBc2: number;
  /** L2 penalty added to the gradient (0: none). */
  weightDecay: number;
}

export interface AdamResult {
  p: tf.Tensor;
  m: tf.Tensor;
  v: tf.Tensor;
}

/** The slice of tfjs-backend-wasm's BackendWasm used to run the update on its heap. */
interface WasmHeapBackend {
  dataIdMap: { has(dataId: object): boolean; get(dataId: object): { memoryOffset: number } };
  wasm: { asm?: { memory?: WasmMemory } };
  makeOutput(shape: number[], dtype: 'float32'): TensorInfo;
  typedArrayFromHeap(t: TensorInfo): Float32Array;
}

/**
 * One masked Adam step, as the composition of tfjs ops it replaces (every op rounds to float32):
 *   g = (g0 + p*wd) * mask;  m = m*b1 + g*(1-b1);  v = v*b2 + g^2*(1-b2)
 *   p = (p - m / (sqrt(v) / sqrtBc2 + eps) * stepSize) * mask + 0
 * Returns new tensors (the caller assigns them). On the wasm backend, for float32 tensors held
 * there, it is one pass over the wasm heap (a SIMD function, wasm/adam-simd.ts; the last size%4
 * elements in JS with Math.fround after every operation), bit-identical to the ops, whose ~14
 * kernels each stream the whole tensor (Conv-2's fc1, 4.2M weights: ~95 ms per step as ops,
 * ~18 ms fused, measured on 2 loaded cores).
 */
export function adamUpdate(p: tf.Tensor, m: tf.Tensor, v: tf.Tensor, g: tf.Tensor, mask: tf.Tensor | undefined, s: AdamScalars): AdamResult {
  const fused = fusedOnWasm(p, m, v, g, mask, s);
  if (fused) return fused;
  return tf.tidy(() => {
    let gm = s.weightDecay > 0 ? tf.add(g, tf.mul(p, s.weightDecay)) : g;
    if (mask) gm = tf.mul(gm, mask);
    const m2 = tf.add(tf.mul(m, s.beta1), tf.mul(gm, 1 - s.beta1));
    const v2 = tf.add(tf.mul(v, s.beta2), tf.mul(tf.square(gm), 1 - s.beta2));
    const denom = tf.add(tf.div(tf.sqrt(v2), s.sqrtBc2), s.epsilon);
    const next = tf.sub(p, tf.mul(tf.div(m2, denom), s.stepSize));
    return { p: mask ? tf.add(tf.mul(next, mask), 0) : next, m: m2, v: v2 };
  });
}

function fusedOnWasm(p: tf.Tensor, m: tf.Tensor, v: tf.Tensor, g: tf.Tensor, mask: tf.Tensor | undefined, s: AdamScalars): AdamResult | null {
  if (tf.getBackend() !== 'wasm') return null;
  const all = mask ? [p, m, v, g, mask] : [p, m, v, g];
  const size = p.size;
  const backend = tf.backend() as unknown as WasmHeapBackend;
  if (!all.every((t) => t.dtype === 'float32' && t.size === size && backend.dataIdMap.has(t.dataId))) return null;
  // Allocate first: growing the wasm memory detaches views taken before.
  const outs = [0, 1, 2].map(() => backend.makeOutput([...p.shape], 'float32'));
  const [pOut, mOut, vOut] = outs.map((o) => backend.typedArrayFromHeap(o)) as [Float32Array, Float32Array, Float32Array];
  const heap = (t: tf.Tensor) => backend.typedArrayFromHeap({ dataId: t.dataId, shape: t.shape, dtype: 'float32' });
  const [pv, mv, vv, gv] = [heap(p), heap(m), heap(v), heap(g)] as [Float32Array, Float32Array, Float32Array, Float32Array];
  const kv = mask ? heap(mask) : null;
  const simd = backend.wasm.asm?.memory ? adamSimdFor(backend.wasm.asm.memory) : null;
  const from = simd ? size - (size % 4) : 0;
  if (simd && from > 0) {
    const ptr = (t: TensorInfo) => backend.dataIdMap.get(t.dataId).memoryOffset;
    const k = mask ? ptr(mask) : 0;
    const flags = (mask ? 1 : 0) | (s.weightDecay > 0 ? 2 : 0);
    simd(
      ptr(p),
      ptr(m),
      ptr(v),
      ptr(g),
      k,
      ptr(outs[0]!),
      ptr(outs[1]!),
      ptr(outs[2]!),
      from * 4,
      flags,
      s.beta1,
      1 - s.beta1,
      s.beta2,
      1 - s.beta2,
      s.epsilon,
      s.stepSize,
      s.sqrtBc2,
      s.weightDecay,
    );
  }
  // The scalars as the float32 scalar tensors the ops would use.
  const f = Math.fround;
  const [b1, ob1, b2, ob2, eps, step, sb2, wd] = [s.beta1, 1 - s.beta1, s.beta2, 1 - s.beta2, s.epsilon, s.stepSize, s.sqrtBc2, s.weightDecay].map(
    f,
  ) as number[];
  const decay = s.weightDecay > 0;
  for (let i = from; i < size; i++) {
    let gi = gv[i]!;
    if (decay) gi = f(gi + f(pv[i]! * wd!));
    if (kv) gi = f(gi * kv[i]!);
    const mi = f(f(mv[i]! * b1!) + f(gi * ob1!));
    const vi = f(f(vv[i]! * b2!) + f(f(gi * gi) * ob2!));
    const denom = f(f(f(Math.sqrt(vi)) / sb2!) + eps!);
    const next = f(pv[i]! - f(f(mi / denom) * step!));
    mOut[i] = mi;
    vOut[i] = vi;
    pOut[i] = kv ? f(next * kv[i]!) + 0 : next;
  }
  const engine = tf.engine();
  return { p: engine.makeTensorFromTensorInfo(outs[0]!), m: engine.makeTensorFromTensorInfo(outs[1]!), v: engine.makeTensorFromTensorInfo(outs[2]!) };
}
