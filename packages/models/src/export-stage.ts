import { z } from 'zod';
import { bundleDtype, defineStage, type MaskBundle, type TensorBundle, type WeightBundle } from '@lth/artifacts';
import { EXPORT_FORMATS, exportModel } from './export-files';

/** A tensors input of the expected dtype: a mask wired into `weights` (or the reverse) is an error naming the port. */
function ofDtype<B extends WeightBundle | MaskBundle>(b: TensorBundle, port: string, dtype: 'float32' | 'uint8'): B {
  if (bundleDtype(b) !== dtype)
    throw new Error(`models/export: input '${port}' holds ${bundleDtype(b)} '${b.meta.content}' tensors, expected ${dtype === 'uint8' ? 'a mask' : 'weights'}`);
  return b as B;
}

export const ExportConfig = z
  .object({
    /** tfjs (model.json + weights.bin), safetensors (model.safetensors + model.py) or both. */
    format: z.enum(EXPORT_FORMATS).default('both'),
  })
  .strict();
export type ExportConfig = z.output<typeof ExportConfig>;

/**
 * models/export: the (masked) network as files for tfjs and PyTorch users, in the stage's
 * files directory (the cache entry's files/, named in the run record). The normalization comes
 * from the dataset. Provenance: the stages that produced the weights and the mask (the engine
 * gives a stage no cache keys or pipeline name; `lth export` records those).
 */
export const exportStage = defineStage({
  id: 'models/export',
  description: 'Export a (masked) network as a tfjs LayersModel and/or safetensors in PyTorch layout, with its input normalization',
  config: ExportConfig,
  inputs: {
    weights: { kind: 'tensors', description: 'the weights to export (e.g. a trained ticket)' },
    mask: { kind: 'tensors', optional: true, description: 'the mask: pruned weights are written as 0, and the mask itself with them' },
    data: { kind: 'dataset', description: 'the dataset the network was trained on: its input normalization and class names' },
  },
  outputs: {},
  async run(ctx, cfg, inputs) {
    const producer = (port: string) => ctx.inputTimings?.[port]?.[0]?.stage;
    const provenance = { stage: producer('weights'), maskStage: producer('mask'), dataStage: producer('data'), exportedBy: 'models/export' };
    const out = await exportModel(
      {
        weights: ofDtype<WeightBundle>(inputs.weights, 'weights', 'float32'),
        mask: inputs.mask && ofDtype<MaskBundle>(inputs.mask, 'mask', 'uint8'),
        normalization: inputs.data.meta.normalization,
        classes: inputs.data.meta.classes,
        provenance,
      },
      { format: cfg.format, dir: ctx.outDir },
    );
    ctx.log(`exported ${inputs.weights.meta.model.arch}${inputs.mask ? ' (masked)' : ''}: ${out.files.join(', ')}`);
    return {};
  },
});
