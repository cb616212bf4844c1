import { maskedMatMul, nativeBlasActive, tf, wasmKernelsRegistered, type MaskIndex } from '@lth/compute';
import type { LayerSpec } from './spec';

/**
 * An eval-mode forward pass over many batches. It holds padded copies of some weights taken
 * when it was made, so it is valid until the weights change: make one per evaluation, and
 * dispose it when done.
 */
export interface Inference {
  /** Logits [batch, classes], as `model.apply(x, { training: false })` up to float rounding. */
  apply(x: tf.Tensor4D): tf.Tensor2D;
  dispose(): void;
}

/** One dense layer of the tail with its weights padded to the gemm's tile. */
interface PaddedDense {
  kind: 'dense';
  w: tf.Tensor2D;
  b: tf.Tensor1D | undefined;
}

/** One dense layer of the tail that runs sparse (the model's `useSparse`), unpadded. */
interface SparseDense {
  kind: 'sparse';
  w: tf.Tensor2D;
  b: tf.Tensor1D | undefined;
  index: MaskIndex;
}

/** The gemm kernel of @lth/compute tiles the output width by 8 (see its README). */
const GEMM_N = 8;

/**
 * Where the model's trailing run of dense / relu / dropout layers starts (its first dense), or
 * -1. Only that tail is padded: its activations stay [batch, units] from layer to layer.
 */
export function denseTailStart(layers: readonly LayerSpec[]): number {
  let start = -1;
  for (let i = layers.length - 1; i >= 0; i--) {
    const k = layers[i]!.kind;
    if (k === 'dense') start = i;
    else if (k !== 'relu' && k !== 'dropout') break;
  }
  return start;
}

/**
 * Why this exists: tfjs-backend-wasm's own product (XNNPACK) is what runs for every dense
 * layer whose width is not a multiple of 8, i.e. all of LeNet-300-100's (300, 100, 10), and it
 * is ~1.5x slower than @lth/compute's gemm (measured: [500,784]x[784,300] 12.8 ms, x[784,304]
 * 8.2 ms per batch). An evaluation runs the same weights over many batches, so padding them
 * once (zero columns, and zero rows in the next layer for the padded inputs, which relu keeps
 * at 0) puts every product on the gemm; the logits are sliced back at the end. Gradient-free:
 * plain ops instead of the training path's custom gradients.
 *
 * Layers the model trains sparse (`sparseIndex` gives their mask index) are evaluated sparse as
 * well: below ~30% kept the masked product is also the faster forward at evaluation batch
 * sizes (measured [500,784]x[784,300], CPU time: padded gemm 13.8 ms; sparse 13.0 ms at 30%
 * kept, 4.9 ms at 7%, 3.5 ms at 3.6%). They take and give unpadded activations, so the layer
 * before a sparse one is not padded.
 *
 * `body` runs the layers before the tail in eval mode; `get` reads a parameter.
 */
export function makeInference(
  layers: readonly LayerSpec[],
  get: (name: string) => tf.Tensor,
  body: (x: tf.Tensor4D, upTo: number) => tf.Tensor,
  sparseIndex: (weight: string) => MaskIndex | undefined = () => undefined,
): Inference {
  const tail = denseTailStart(layers);
  // With native products (LTH_NATIVE_BLAS=1) every width goes to OpenBLAS: padding would only copy.
  const pad = tail >= 0 && tf.getBackend() === 'wasm' && wasmKernelsRegistered() && !nativeBlasActive();
  const owned: tf.Tensor[] = [];
  const steps: (PaddedDense | SparseDense | { kind: 'relu' | 'dropout' })[] = [];
  let units = 0;
  if (tail >= 0) {
    let inPad = 0;
    const tailLayers = layers.slice(tail);
    for (let i = 0; i < tailLayers.length; i++) {
      const l = tailLayers[i]!;
      if (l.kind !== 'dense') {
        steps.push({ kind: l.kind as 'relu' | 'dropout' });
        continue;
      }
      units = l.units;
      const w0 = get(`${l.name}.weight`) as tf.Tensor2D;
      const b0 = l.bias ? (get(`${l.name}.bias`) as tf.Tensor1D) : undefined;
      const index = sparseIndex(`${l.name}.weight`);
      if (index) {
        steps.push({ kind: 'sparse', w: w0, b: b0, index });
        inPad = 0;
        continue;
      }
      const next = tailLayers.slice(i + 1).find((n) => n.kind === 'dense');
      const nextSparse = next !== undefined && sparseIndex(`${next.name}.weight`) !== undefined;
      const outPad = pad && !nextSparse ? (GEMM_N - (l.units % GEMM_N)) % GEMM_N : 0;
      const w =
        inPad || outPad
          ? tf.pad(w0, [
              [0, inPad],
              [0, outPad],
            ])
          : w0;
      const b = b0 && outPad ? tf.pad(b0, [[0, outPad]]) : b0;
      if (w !== w0) owned.push(w);
      if (b && b !== b0) owned.push(b);
      steps.push({ kind: 'dense', w, b });
      inPad = outPad;
    }
  }
  return {
    apply(x) {
      return tf.tidy(() => {
        let h = body(x, tail >= 0 ? tail : layers.length);
        if (tail < 0) return h as tf.Tensor2D;
        for (const s of steps) {
          // Dropout is the identity in eval mode.
          if (s.kind === 'relu') h = tf.relu(h);
          else if (s.kind === 'dense') h = s.b ? tf.fused.matMul({ a: h as tf.Tensor2D, b: s.w, bias: s.b }) : tf.matMul(h as tf.Tensor2D, s.w);
          else if (s.kind === 'sparse') h = maskedMatMul(h as tf.Tensor2D, s.w, s.index, s.b);
        }
        return (h.shape[1] === units ? h : tf.slice(h, [0, 0], [h.shape[0]!, units])) as tf.Tensor2D;
      });
    },
    dispose() {
      tf.dispose(owned);
      owned.length = 0;
    },
  };
}
