import type { KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import * as tf from '@tensorflow/tfjs-core';
import { Tile } from '@tensorflow/tfjs-core';
import type { WasmBackendLike, WasmKernelConfig } from '../kernel';

/**
 * Tile for the wasm backend as a few Concat calls (one per tiled axis, each a handful of
 * contiguous copies). tfjs-backend-wasm's own Tile computes an index per element and takes
 * ~0.6 s to tile a [1,1,1,64] channel vector to a [60,32,32,64] activation, which the
 * FusedBatchNorm gradient does once per batch-norm layer and step. Strings are refused, as
 * the original kernel does (it aborts the wasm module on them).
 */
function makeWasmTile(): KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const x = (inputs as { x: TensorInfo }).x;
    const reps = (attrs as unknown as tf.TileAttrs).reps;
    if (x.dtype === 'string') throw new Error('wasm-kernels Tile: the wasm backend cannot tile string tensors; use the cpu backend');
    if (reps.length !== x.shape.length) throw new Error(`wasm-kernels Tile: reps [${reps}] must have one entry per dimension of the input [${x.shape}]`);
    const concat = tf.getKernel('Concat', 'wasm');
    const identity = tf.getKernel('Identity', 'wasm');
    if (!concat || !identity) throw new Error("wasm-kernels Tile: the wasm backend has no 'Concat'/'Identity' kernel");
    const b = backend as unknown as WasmBackendLike;
    let cur = x;
    // Innermost axis first: the early, small copies are cheap and the outer ones are long runs.
    for (let axis = reps.length - 1; axis >= 0; axis--) {
      const r = reps[axis]!;
      if (r === 1) continue;
      const next = concat.kernelFunc({ inputs: new Array<TensorInfo>(r).fill(cur) as never, backend, attrs: { axis } }) as TensorInfo;
      if (cur !== x) b.disposeData(cur.dataId);
      cur = next;
    }
    // All reps 1: tfjs expects a new tensor, not the input itself.
    return cur === x ? (identity.kernelFunc({ inputs: { x }, backend }) as TensorInfo) : cur;
  };
}

export const tileConfig: WasmKernelConfig = { kernelName: Tile, makeKernelFunc: () => makeWasmTile() };
