import { maskedMatMulAvailable, maskedMatMulMaxDensity, maskIndex, type MaskIndex } from '@lth/compute';
import type { TensorBundle } from '@lth/artifacts';
import { z } from 'zod';
import type { LayerSpec } from './spec';

/**
 * Whether masked dense layers train with sparse products (@lth/compute `maskedMatMul`):
 * `auto` where the layer keeps at most `maskedMatMulMaxDensity()` of its weights (0.3 on the wasm
 * gemm, 0.1 when dense products run on OpenBLAS: where that
 * measured faster), `on` for every masked dense layer, `off` never. Sparse products change
 * only float rounding. Where the sparse kernels are not available (a backend other than wasm,
 * no wasm SIMD) every mode runs the dense product of the masked weights.
 */
export const SparseMode = z.enum(['auto', 'on', 'off']);
export type SparseMode = z.output<typeof SparseMode>;

/** A dense layer that runs sparse, with the fraction of its weights the mask keeps. */
export interface SparseLayer {
  /** The layer's weight tensor, e.g. `fc1.weight`. */
  weight: string;
  density: number;
}

function denseWeights(layers: readonly LayerSpec[], out: string[] = []): string[] {
  for (const l of layers) {
    if (l.kind === 'dense') out.push(`${l.name}.weight`);
    else if (l.kind === 'residual') {
      denseWeights(l.body, out);
      denseWeights(l.shortcut, out);
    }
  }
  return out;
}

/**
 * The mask index of every dense layer that `mode` makes sparse, keyed by weight name. The mask
 * is checked against the model elsewhere (applyMask, the trainer's maskTensors); here a mask
 * tensor whose size does not match its weight is an error all the same, as the kernels would
 * read out of bounds. The caller disposes the indexes.
 */
export function sparseLayerIndexes(
  layers: readonly LayerSpec[],
  shapes: ReadonlyMap<string, readonly number[]>,
  mask: TensorBundle | undefined,
  mode: SparseMode,
): Map<string, MaskIndex> {
  const out = new Map<string, MaskIndex>();
  if (!mask || mode === 'off' || !maskedMatMulAvailable()) return out;
  const byName = new Map(mask.tensors.map((t) => [t.name, t]));
  const maxDensity = maskedMatMulMaxDensity();
  try {
    for (const weight of denseWeights(layers)) {
      const m = byName.get(weight);
      const shape = shapes.get(weight);
      if (!m || !shape) continue;
      if (shape.length !== 2 || m.values.length !== shape[0]! * shape[1]!) {
        throw new Error(`sparse layers: mask tensor '${weight}' has ${m.values.length} values, the weight has shape [${shape}]`);
      }
      let kept = 0;
      for (let i = 0; i < m.values.length; i++) if (m.values[i] !== 0) kept++;
      if (mode === 'auto' && kept / m.values.length > maxDensity) continue;
      out.set(weight, maskIndex(m.values, [shape[0]!, shape[1]!]));
    }
  } catch (err) {
    for (const index of out.values()) index.dispose();
    throw err;
  }
  return out;
}
