import * as tf from '@tensorflow/tfjs-core';
import { backend_util } from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';
import { makeUntransposedMatMul } from './wasm-matmul';
import { makeGemmMatMul } from './wasm-gemm-matmul';
import { makeMatMulReduce } from './wasm-reduce';
import { makeWasmTile } from './wasm-tile';
import { filterGradByTaps, tapsApply } from './wasm-filter-taps';
import { filterGradByIm2col, im2colApply, type HeapBackend } from './wasm-im2col';
import { makeMaxPoolGrad } from './wasm-maxpool-grad';
import { makeSharingIdentity } from './wasm-identity';
import { conv2DWinograd, filterGradWinograd, winogradApply } from './wasm-winograd';

/**
 * Fast convolution gradients for tfjs-backend-wasm 4.22, which has no Conv2DBackpropFilter and
 * only a naive loop for Conv2DBackpropInput. Both gradients are rewritten as forward Conv2D
 * calls (XNNPACK) around cheap layout kernels (Transpose, PadV2, Slice, Reverse), all run as
 * wasm kernels on wasm memory: no data goes through JS.
 */

type Explicit = [[number, number], [number, number], [number, number], [number, number]];

/** The slice of the wasm backend these kernels touch. */
interface WasmBackendLike {
  disposeData(dataId: object, force?: boolean): boolean;
}

/** Marks the configs registered here, so that registering twice is a no-op. */
const OURS = Symbol.for('lth.compute.wasmKernel');
const WASM = 'wasm';
const KERNELS = ['Conv2D', 'Conv2DBackpropFilter', 'Conv2DBackpropInput', 'Tile', 'BatchMatMul', '_FusedMatMul', 'Sum', 'Mean', 'MaxPoolGrad', 'Identity'] as const;
type OurKernel = (typeof KERNELS)[number];

/** What tfjs-backend-wasm had registered before us (undefined: nothing), to restore it. */
const originals = new Map<OurKernel, KernelConfig | undefined>();

function call(name: string, backend: WasmBackendLike, inputs: Record<string, TensorInfo>, attrs: NamedAttrMap): TensorInfo {
  const kernel = tf.getKernel(name, WASM);
  if (!kernel) throw new Error(`wasm-kernels: the wasm backend has no '${name}' kernel (is @tensorflow/tfjs-backend-wasm loaded?)`);
  return kernel.kernelFunc({ inputs, backend: backend as never, attrs }) as TensorInfo;
}

/** A view of the same wasm buffer with another shape (row-major, so no data moves). */
function view(t: TensorInfo, shape: number[]): TensorInfo {
  return { dataId: t.dataId, shape, dtype: t.dtype };
}

/**
 * Runs `steps` with a scratch list: every intermediate pushed on it is freed afterwards, on
 * success or error, except the one returned.
 */
function scoped(backend: WasmBackendLike, steps: (keep: (t: TensorInfo) => TensorInfo) => TensorInfo): TensorInfo {
  const scratch: TensorInfo[] = [];
  let result: TensorInfo | undefined;
  try {
    result = steps((t) => {
      scratch.push(t);
      return t;
    });
    return result;
  } finally {
    for (const t of scratch) if (t.dataId !== result?.dataId) backend.disposeData(t.dataId);
  }
}

/**
 * Pads a 4-d NHWC tensor's H and W by (top, bottom, left, right); a negative amount crops
 * instead. Returns the explicit pads that are left for the convolution to apply itself.
 */
function cropNegative(
  backend: WasmBackendLike,
  keep: (t: TensorInfo) => TensorInfo,
  x: TensorInfo,
  pads: [number, number, number, number],
): { x: TensorInfo; pad: Explicit } {
  const [top, bottom, left, right] = pads;
  const [n, h, w, c] = x.shape as [number, number, number, number];
  const cut = [Math.max(0, -top), Math.max(0, -bottom), Math.max(0, -left), Math.max(0, -right)] as const;
  let out = x;
  if (cut.some((v) => v > 0)) {
    out = keep(
      call('Slice', backend, { x }, { begin: [0, cut[0], cut[2], 0], size: [n, h - cut[0] - cut[1], w - cut[2] - cut[3], c] }),
    );
  }
  const pad: Explicit = [
    [0, 0],
    [Math.max(0, top), Math.max(0, bottom)],
    [Math.max(0, left), Math.max(0, right)],
    [0, 0],
  ];
  return { x: out, pad };
}

function convInfoFor(kernel: string, xShape: number[], filterShape: number[], attrs: NamedAttrMap): backend_util.Conv2DInfo {
  const { strides, pad, dataFormat, dimRoundingMode } = attrs as unknown as tf.Conv2DBackpropInputAttrs;
  const format = backend_util.convertConv2DDataFormat(dataFormat);
  if (format !== 'channelsLast') {
    throw new Error(`wasm-kernels ${kernel}: dataFormat '${dataFormat}' is not supported (the wasm Conv2D is NHWC only)`);
  }
  return backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    strides,
    1,
    pad,
    dimRoundingMode,
    false,
    format,
  );
}

/**
 * dW[kh,kw,ci,co] = sum_{n,oh,ow} x[n, oh*sh+kh-pt, ow*sw+kw-pl, ci] * dy[n,oh,ow,co]: a
 * convolution of x^T [ci,h,w,n] with dy^T [oh,ow,n,co] as the filter, stride 1, dilated by the
 * forward stride, giving [ci,kh,kw,co].
 */
function conv2DBackpropFilter({ inputs, backend, attrs }: Parameters<KernelFunc>[0]): TensorInfo {
  const b = backend as unknown as WasmBackendLike;
  const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
  const { filterShape } = attrs as unknown as tf.Conv2DBackpropFilterAttrs;
  const info = convInfoFor('Conv2DBackpropFilter', x.shape, filterShape, attrs ?? {});
  const { filterHeight: kh, filterWidth: kw, inHeight: h, inWidth: w, outHeight: oh, outWidth: ow, strideHeight: sh, strideWidth: sw } = info;
  const { top, left } = info.padInfo;
  const calls = (name: string, inp: Record<string, TensorInfo> | TensorInfo[], at: NamedAttrMap) => call(name, b, inp as Record<string, TensorInfo>, at);
  const heap = backend as unknown as HeapBackend;
  if (winogradApply(info, heap)) return scoped(b, (keep) => filterGradWinograd(calls, keep, heap, x, dy, info));
  if (tapsApply(info)) return scoped(b, (keep) => filterGradByTaps(calls, keep, x, dy, info));
  if (im2colApply(info, heap)) return scoped(b, (keep) => filterGradByIm2col(calls, keep, heap, x, dy, info));
  return scoped(b, (keep) => {
    const xT = keep(call('Transpose', b, { x }, { perm: [3, 1, 2, 0] }));
    const dyT = keep(call('Transpose', b, { x: dy }, { perm: [1, 2, 0, 3] }));
    // Bottom/right pads that make the output exactly kh x kw; negative: rows the forward pass never read.
    const bottom = (oh - 1) * sh + kh - h - top;
    const right = (ow - 1) * sw + kw - w - left;
    const { x: xIn, pad } = cropNegative(b, keep, xT, [top, bottom, left, right]);
    const g = keep(call('Conv2D', b, { x: xIn, filter: dyT }, { strides: [1, 1], pad, dilations: [sh, sw], dataFormat: 'NHWC', dimRoundingMode: undefined as never }));
    return call('Transpose', b, { x: g }, { perm: [1, 2, 0, 3] });
  });
}

/**
 * dx = the stride-dilated dy, padded by (k-1-pad), convolved with the spatially flipped filter
 * whose in/out channels are swapped.
 */
function conv2DBackpropInput({ inputs, backend, attrs }: Parameters<KernelFunc>[0]): TensorInfo {
  const b = backend as unknown as WasmBackendLike;
  const { dy, filter } = inputs as { dy: TensorInfo; filter: TensorInfo };
  const { inputShape } = attrs as unknown as tf.Conv2DBackpropInputAttrs;
  const info = convInfoFor('Conv2DBackpropInput', inputShape, filter.shape, attrs ?? {});
  const { batchSize: n, filterHeight: kh, filterWidth: kw, inHeight: h, inWidth: w, outHeight: oh, outWidth: ow, outChannels: co, strideHeight: sh, strideWidth: sw } = info;
  const { top, left } = info.padInfo;
  return scoped(b, (keep) => {
    const flipped = keep(call('Reverse', b, { x: filter }, { dims: [0, 1] }));
    const wT = keep(call('Transpose', b, { x: flipped }, { perm: [0, 1, 3, 2] }));
    let d = dy;
    if (sh > 1 || sw > 1) {
      // Zeros after every row/column: [n*oh,1,ow,1,co] padded to [n*oh,sh,ow,sw,co] is the dilation.
      const padded = call('PadV2', b, { x: view(dy, [n * oh, 1, ow, 1, co]) }, {
        paddings: [[0, 0], [0, sh - 1], [0, 0], [0, sw - 1], [0, 0]],
        constantValue: 0,
      });
      d = keep(view(padded, [n, oh * sh, ow * sw, co]));
    }
    const ptop = kh - 1 - top;
    const pleft = kw - 1 - left;
    const pbottom = h + kh - 1 - oh * sh - ptop;
    const pright = w + kw - 1 - ow * sw - pleft;
    const { x: dIn, pad } = cropNegative(b, keep, d, [ptop, pbottom, pleft, pright]);
    return call('Conv2D', b, { x: dIn, filter: wT }, { strides: [1, 1], pad, dilations: [1, 1], dataFormat: 'NHWC', dimRoundingMode: undefined as never });
  });
}

/**
 * 3x3 stride-1 convolutions with channels in fours/eights by Winograd F(4x4, 3x3) (wasm-winograd),
 * 2.6x faster than XNNPACK's direct convolution on Conv-2's layer; the rest go to the original.
 */
function makeConv2D(original: KernelConfig): KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const { x, filter } = inputs as { x: TensorInfo; filter: TensorInfo };
    const { strides, pad, dataFormat, dilations, dimRoundingMode } = attrs as unknown as tf.Conv2DAttrs;
    const format = backend_util.convertConv2DDataFormat(dataFormat);
    const heap = backend as unknown as HeapBackend;
    if (format === 'channelsLast' && x.dtype === 'float32' && filter.dtype === 'float32') {
      const info = backend_util.computeConv2DInfo(
        x.shape as [number, number, number, number],
        filter.shape as [number, number, number, number],
        strides,
        dilations,
        pad,
        dimRoundingMode,
        false,
        format,
      );
      if (winogradApply(info, heap)) {
        const b = backend as unknown as WasmBackendLike;
        const calls = (name: string, inp: Record<string, TensorInfo>, at: NamedAttrMap) => call(name, b, inp, at);
        return scoped(b, (keep) => conv2DWinograd(calls, keep, heap, x, filter, info));
      }
    }
    return original.kernelFunc({ inputs, backend, attrs }) as TensorInfo;
  };
}

const IMPLS: Record<OurKernel, (original: KernelConfig | undefined) => KernelFunc> = {
  Conv2D: (original) => makeConv2D(required('Conv2D', original)),
  Conv2DBackpropFilter: () => conv2DBackpropFilter as KernelFunc,
  Conv2DBackpropInput: () => conv2DBackpropInput as KernelFunc,
  Tile: () => makeWasmTile(),
  BatchMatMul: (original) => makeGemmMatMul(makeUntransposedMatMul(required('BatchMatMul', original)), call),
  _FusedMatMul: (original) => makeGemmMatMul(makeUntransposedMatMul(required('_FusedMatMul', original)), call),
  Sum: (original) => makeMatMulReduce(required('Sum', original), false),
  Mean: (original) => makeMatMulReduce(required('Mean', original), true),
  MaxPoolGrad: (original) => makeMaxPoolGrad(original),
  Identity: (original) => makeSharingIdentity(required('Identity', original)),
};

function required(name: string, original: KernelConfig | undefined): KernelConfig {
  if (!original) throw new Error(`wasm-kernels: tfjs-backend-wasm registered no '${name}' kernel to wrap`);
  return original;
}

function isOurs(config: KernelConfig | undefined): boolean {
  return config !== undefined && (config as unknown as Record<symbol, unknown>)[OURS] === true;
}

function loadWasmModule(): void {
  if (tf.getKernel('Conv2D', WASM)) return;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    require('@tensorflow/tfjs-backend-wasm');
  } catch (err) {
    throw new Error(`wasm-kernels: @tensorflow/tfjs-backend-wasm cannot be loaded: ${(err as Error).message.split('\n')[0]}`);
  }
}

/**
 * Registers the fast Conv2DBackpropFilter / Conv2DBackpropInput (plus a Tile, transposed
 * matmuls and leading-axis Sum/Mean that are not pathologically slow) on the 'wasm' backend,
 * replacing what tfjs-backend-wasm registered (kept, see unregisterWasmKernels). Idempotent.
 */
export function registerWasmKernels(): void {
  loadWasmModule();
  for (const name of KERNELS) {
    const existing = tf.getKernel(name, WASM);
    if (isOurs(existing)) continue;
    originals.set(name, existing);
    if (existing) tf.unregisterKernel(name, WASM);
    // The original's setupFunc (its bindings into the wasm module) is kept: wrappers call it.
    const config = { kernelName: name, backendName: WASM, kernelFunc: IMPLS[name](existing), setupFunc: existing?.setupFunc, [OURS]: true } as KernelConfig;
    tf.registerKernel(config);
  }
}

/** Puts back tfjs-backend-wasm's own kernels (the naive input gradient, no filter gradient, slow Tile). */
export function unregisterWasmKernels(): void {
  for (const name of KERNELS) {
    if (!isOurs(tf.getKernel(name, WASM))) continue;
    tf.unregisterKernel(name, WASM);
    const original = originals.get(name);
    if (!original) continue;
    tf.registerKernel(original);
    // tfjs runs a kernel's setupFunc only when the backend initializes; ours was registered then.
    const backend = tf.findBackend(WASM);
    if (backend && original.setupFunc) original.setupFunc(backend);
  }
}

/** Whether our fast kernels are the ones registered on 'wasm' now. */
export function wasmKernelsRegistered(): boolean {
  return KERNELS.every((k) => isOurs(tf.getKernel(k, WASM)));
}
