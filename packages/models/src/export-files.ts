import { promises as fs } from 'fs';
import * as path from 'path';
import type { MaskBundle, WeightBundle } from '@lth/artifacts';
import { writeFileAtomic, ExportTargetExistsError } from './atomic';
import { layersModelFiles } from './export';
import { encodeSafetensors } from './safetensors';
import { declareTensors, type ModelSpec } from './spec';
import { torchModuleSource } from './torch-module';
import { torchStateDict } from './torch-layout';
import { modelSpec } from './zoo';
import { ExportInputError } from './masked';

export const EXPORT_FORMATS = ['tfjs', 'safetensors', 'both'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/** Every file an export writes, by format (all in one directory). */
export const EXPORT_FILES = {
  tfjs: ['model.json', 'weights.bin'],
  safetensors: ['model.safetensors', 'model.py'],
} as const;

export function exportFileNames(format: ExportFormat): string[] {
  return format === 'both' ? [...EXPORT_FILES.tfjs, ...EXPORT_FILES.safetensors] : [...EXPORT_FILES[format]];
}

/** Where the exported network came from; every field optional, none used for computation. */
export interface ExportProvenance {
  pipeline?: string;
  /** The expanded stage id that produced the weights (e.g. `round[3].train`). */
  stage?: string;
  cacheKey?: string;
  seed?: number;
  /** The run record, the mask's and the dataset's producers, the exporter... */
  [key: string]: string | number | undefined;
}

export interface ExportInput {
  weights: WeightBundle;
  mask?: MaskBundle;
  /** The dataset's per-channel input normalization (train split), on pixels scaled to [0, 1]. */
  normalization: { mean: number[]; std: number[] };
  classes?: string[];
  provenance: ExportProvenance;
}

/** Refuses what cannot be exported, naming the tensor: a mask as weights, missing or misshapen tensors. */
function checkWeights(w: WeightBundle): void {
  const arch = w.meta.model.arch;
  if (w.meta.content === 'mask') throw new ExportInputError(`export: the weights bundle holds a mask, not weights of '${arch}'`);
  let spec: ModelSpec;
  try {
    spec = modelSpec(w.meta.model);
  } catch (err) {
    throw new ExportInputError(`export: ${(err as Error).message}`);
  }
  const have = new Map(w.tensors.map((t) => [t.name, t]));
  for (const d of declareTensors(spec).tensors) {
    const t = have.get(d.name);
    if (!t) throw new ExportInputError(`export: weight bundle for '${arch}' lacks tensor '${d.name}'`);
    if (t.shape.join() !== d.shape.join()) throw new ExportInputError(`export: tensor '${d.name}' has shape [${t.shape}], '${arch}' needs [${d.shape}]`);
  }
}

/** The metadata both formats carry (as JSON values; safetensors stores each one as a string). */
export function exportMetadata(input: ExportInput): Record<string, unknown> {
  const { weights, mask } = input;
  const kept = mask?.tensors.reduce((a, t) => a + t.values.reduce((s, v) => s + (v ? 1 : 0), 0), 0);
  const total = mask?.tensors.reduce((a, t) => a + t.values.length, 0);
  const provenance = Object.fromEntries(
    Object.entries({ content: weights.meta.content, iteration: weights.meta.iteration, seed: weights.meta.seed, ...input.provenance }).filter(
      ([, v]) => v !== undefined,
    ),
  );
  return {
    model: weights.meta.model,
    normalization: { ...input.normalization, scale: 'pixel / 255, then (x - mean[c]) / std[c]' },
    ...(input.classes ? { classes: input.classes } : {}),
    mask: mask ? { weights: mask.tensors.map((t) => t.name), kept, total } : null,
    provenance,
  };
}

export interface ExportedFiles {
  dir: string;
  files: string[];
}

/**
 * Writes the network in the chosen formats into `dir`: tfjs (model.json + weights.bin) and/or
 * safetensors in PyTorch layout (model.safetensors + model.py defining the matching module).
 * Each file is written whole or not at all; existing files are refused before anything is
 * written unless `overwrite`.
 */
export async function exportModel(input: ExportInput, opts: { format: ExportFormat; dir: string; overwrite?: boolean }): Promise<ExportedFiles> {
  checkWeights(input.weights);
  const overwrite = opts.overwrite ?? false;
  const names = exportFileNames(opts.format);
  await fs.mkdir(opts.dir, { recursive: true });
  if (!overwrite) {
    for (const n of names) {
      const file = path.join(opts.dir, n);
      if (
        await fs.lstat(file).then(
          () => true,
          () => false,
        )
      )
        throw new ExportTargetExistsError(file);
    }
  }
  const meta = exportMetadata(input);
  const spec = modelSpec(input.weights.meta.model);
  const written: string[] = [];
  const write = async (name: string, data: string | Uint8Array) => {
    const file = path.join(opts.dir, name);
    await writeFileAtomic(file, data, overwrite);
    written.push(file);
  };
  if (opts.format !== 'safetensors') {
    const tfjs = await layersModelFiles(input.weights, input.mask, { lth: { ...meta, input: { layout: 'NHWC', shape: spec.input } } });
    // The weights first: a model.json in place always has its weights.
    await write('weights.bin', tfjs.weightsBin);
    await write('model.json', tfjs.modelJson);
  }
  if (opts.format !== 'tfjs') {
    const [h, w, c] = spec.input;
    const strings: Record<string, string> = { format: 'pt' };
    for (const [k, v] of Object.entries({ ...meta, input: { layout: 'NCHW', shape: [c, h, w] } })) strings[`lth.${k}`] = JSON.stringify(v);
    await write('model.py', torchModuleSource(spec, input.weights.meta.model, input.mask?.tensors.map((t) => t.name) ?? []));
    await write('model.safetensors', encodeSafetensors(torchStateDict(input.weights, input.mask, spec), strings));
  }
  return { dir: opts.dir, files: written };
}
