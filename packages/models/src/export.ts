import { promises as fs } from 'fs';
import * as path from 'path';
import * as tfl from '@tensorflow/tfjs-layers';
import { ensureBackend, tf } from '@lth/compute';
import type { MaskBundle, WeightBundle } from '@lth/artifacts';
import type { LayerSpec } from './spec';
import { modelSpec } from './zoo';
import { writeFileAtomic } from './atomic';
import { BN_EPSILON, BN_MOMENTUM } from './model';
import { maskedTensors } from './masked';

/** Keras layer names may not contain dots; bundle names use them for nesting. */
const layerName = (name: string): string => name.replace(/\./g, '_');

/**
 * Builds the tfjs-layers twin of a model: the same declarative spec interpreted with the Keras
 * functional API (one code path for plain nets and residual blocks, which join with `add`),
 * with the (masked) bundle's weights set. Batch norm uses the same epsilon and the Keras form
 * of PyTorch's momentum. The caller disposes the returned model.
 */
export function buildLayersModel(bundle: WeightBundle, mask?: MaskBundle): tfl.LayersModel {
  const spec = modelSpec(bundle.meta.model);
  const values = maskedTensors(bundle, mask, 'exportLayersModel');
  const weightsOf = new Map<string, string[]>();
  const tensor = (name: string): tf.Tensor => {
    const v = values.get(name);
    if (!v) throw new Error(`exportLayersModel: weight bundle for '${spec.arch}' lacks tensor '${name}'`);
    return tf.tensor(v.values, v.shape, 'float32');
  };

  function build(layers: LayerSpec[], input: tfl.SymbolicTensor): tfl.SymbolicTensor {
    let x = input;
    for (const l of layers) {
      let layer: tfl.layers.Layer | undefined;
      switch (l.kind) {
        case 'conv':
          layer = tfl.layers.conv2d({
            name: layerName(l.name),
            filters: l.filters,
            kernelSize: l.kernel,
            strides: l.stride,
            padding: l.padding,
            useBias: l.bias,
          });
          weightsOf.set(layer.name, [`${l.name}.weight`, ...(l.bias ? [`${l.name}.bias`] : [])]);
          break;
        case 'bn':
          layer = tfl.layers.batchNormalization({ name: layerName(l.name), axis: -1, epsilon: BN_EPSILON, momentum: 1 - BN_MOMENTUM });
          weightsOf.set(
            layer.name,
            ['gamma', 'beta', 'mean', 'var'].map((p) => `${l.name}.${p}`),
          );
          break;
        case 'relu':
          layer = tfl.layers.reLU();
          break;
        case 'maxpool':
          layer = tfl.layers.maxPooling2d({ poolSize: l.size, strides: l.stride, padding: 'valid' });
          break;
        case 'avgpool':
          layer = tfl.layers.globalAveragePooling2d({});
          break;
        case 'flatten':
          layer = tfl.layers.flatten();
          break;
        case 'dense':
          layer = tfl.layers.dense({ name: layerName(l.name), units: l.units, useBias: l.bias });
          weightsOf.set(layer.name, [`${l.name}.weight`, ...(l.bias ? [`${l.name}.bias`] : [])]);
          break;
        case 'dropout':
          layer = tfl.layers.dropout({ rate: l.rate });
          break;
        case 'residual': {
          const body = build(l.body, x);
          const short = l.shortcut.length ? build(l.shortcut, x) : x;
          x = tfl.layers.add({ name: layerName(`${l.name}.add`) }).apply([body, short]) as tfl.SymbolicTensor;
          break;
        }
      }
      if (layer) x = layer.apply(x) as tfl.SymbolicTensor;
    }
    return x;
  }

  const input = tfl.input({ shape: [...spec.input], name: 'input' });
  const model = tfl.model({ inputs: input, outputs: build(spec.layers, input), name: spec.arch });
  for (const [name, tensors] of weightsOf) {
    const ws = tensors.map(tensor);
    model.getLayer(name).setWeights(ws);
    tf.dispose(ws);
  }
  return model;
}

/** The two files of a tfjs LayersModel, in memory. */
export interface LayersModelFiles {
  /** model.json: topology, weights manifest (paths: ['weights.bin']) and userDefinedMetadata. */
  modelJson: string;
  weightsBin: Uint8Array;
}

/**
 * A (masked) model as the files of a tfjs LayersModel. It sets up a tfjs backend itself
 * (@lth/compute's choice) when none is active. `userDefinedMetadata` lands in model.json as is.
 */
export async function layersModelFiles(
  bundle: WeightBundle,
  mask: MaskBundle | undefined,
  userDefinedMetadata: Record<string, unknown> = {},
): Promise<LayersModelFiles> {
  await ensureBackend();
  const model = buildLayersModel(bundle, mask);
  let files: LayersModelFiles | undefined;
  try {
    await model.save(
      tf.io.withSaveHandler(async (artifacts) => {
        const data = artifacts.weightData === undefined ? new ArrayBuffer(0) : tf.io.CompositeArrayBuffer.join(artifacts.weightData);
        const json = {
          format: 'layers-model',
          generatedBy: artifacts.generatedBy,
          convertedBy: null,
          modelTopology: artifacts.modelTopology,
          weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs ?? [] }],
          userDefinedMetadata,
        };
        files = { modelJson: JSON.stringify(json), weightsBin: new Uint8Array(data) };
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON', weightDataBytes: data.byteLength } };
      }),
    );
  } finally {
    model.dispose();
  }
  return files!;
}

export interface ExportResult {
  modelJson: string;
  weightsBin: string;
  bytes: number;
}

/**
 * Writes a (masked) model as a tfjs LayersModel: `dir/model.json` + `dir/weights.bin`, each
 * file written whole or not at all, loadable with `tf.loadLayersModel` (an IOHandler such as
 * `tf.io.fromMemory`, see docs/EXPORT.md, or `loadExportedLayersModel(dir)` here). The outputs
 * are logits (no softmax), as `Model.apply`. Existing files are an error unless `overwrite`.
 * `exportModel` (export-files.ts) writes this with the normalization and provenance.
 */
export async function exportLayersModel(
  bundle: WeightBundle,
  mask: MaskBundle | undefined,
  dir: string,
  opts: { overwrite?: boolean; userDefinedMetadata?: Record<string, unknown> } = {},
): Promise<ExportResult> {
  const files = await layersModelFiles(
    bundle,
    mask,
    opts.userDefinedMetadata ?? { lth: { model: bundle.meta.model, content: bundle.meta.content, masked: mask !== undefined } },
  );
  await fs.mkdir(dir, { recursive: true });
  const modelJson = path.join(dir, 'model.json');
  const weightsBin = path.join(dir, 'weights.bin');
  // The weights first: a model.json in place always has its weights.
  await writeFileAtomic(weightsBin, files.weightsBin, opts.overwrite ?? false);
  await writeFileAtomic(modelJson, files.modelJson, opts.overwrite ?? false);
  return { modelJson, weightsBin, bytes: files.weightsBin.byteLength };
}

/** Loads what exportLayersModel wrote, without tfjs-node's file:// handler. */
export async function loadExportedLayersModel(dir: string): Promise<tfl.LayersModel> {
  const json = JSON.parse(await fs.readFile(path.join(dir, 'model.json'), 'utf8')) as {
    modelTopology: object;
    weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
  };
  const specs: tf.io.WeightsManifestEntry[] = [];
  const buffers: ArrayBuffer[] = [];
  for (const group of json.weightsManifest) {
    specs.push(...group.weights);
    for (const p of group.paths) {
      const b = await fs.readFile(path.join(dir, p));
      buffers.push(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer);
    }
  }
  return tfl.loadLayersModel(tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs: specs, weightData: tf.io.concatenateArrayBuffers(buffers) }));
}
