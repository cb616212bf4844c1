import { promises as fs } from 'fs';
import * as path from 'path';
import * as tfl from '@tensorflow/tfjs-layers';
import { tf } from '@lth/compute';
import type { MaskBundle, WeightBundle } from '@lth/artifacts';
import type { LayerSpec } from './spec';
import { modelSpec } from './zoo';
import { BN_EPSILON, BN_MOMENTUM } from './model';

/** Keras layer names may not contain dots; bundle names use them for nesting. */
const layerName = (name: string): string => name.replace(/\./g, '_');

/** Returns the bundle's values with the mask applied (pruned weights exactly 0). */
function maskedValues(bundle: WeightBundle, mask: MaskBundle | undefined): Map<string, { shape: number[]; values: Float32Array }> {
  const out = new Map(bundle.tensors.map((t) => [t.name, { shape: t.shape, values: t.values }]));
  if (!mask) return out;
  if (mask.meta.model.arch !== bundle.meta.model.arch) {
    throw new Error(`exportLayersModel: mask is for '${mask.meta.model.arch}' but the weights are '${bundle.meta.model.arch}'`);
  }
  for (const m of mask.tensors) {
    const w = out.get(m.name);
    if (!w) throw new Error(`exportLayersModel: mask tensor '${m.name}' names no weight of '${bundle.meta.model.arch}'`);
    if (m.values.length !== w.values.length) throw new Error(`exportLayersModel: mask tensor '${m.name}' has ${m.values.length} values, the weight ${w.values.length}`);
    out.set(m.name, { shape: w.shape, values: w.values.map((v, i) => (m.values[i] ? v : 0)) });
  }
  return out;
}

/**
 * Builds the tfjs-layers twin of a model: the same declarative spec interpreted with the Keras
 * functional API (one code path for plain nets and residual blocks, which join with `add`),
 * with the (masked) bundle's weights set. Batch norm uses the same epsilon and the Keras form
 * of PyTorch's momentum. The caller disposes the returned model.
 */
export function buildLayersModel(bundle: WeightBundle, mask?: MaskBundle): tfl.LayersModel {
  const spec = modelSpec(bundle.meta.model);
  const values = maskedValues(bundle, mask);
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
          layer = tfl.layers.conv2d({ name: layerName(l.name), filters: l.filters, kernelSize: l.kernel, strides: l.stride, padding: l.padding, useBias: l.bias });
          weightsOf.set(layer.name, [`${l.name}.weight`, ...(l.bias ? [`${l.name}.bias`] : [])]);
          break;
        case 'bn':
          layer = tfl.layers.batchNormalization({ name: layerName(l.name), axis: -1, epsilon: BN_EPSILON, momentum: 1 - BN_MOMENTUM });
          weightsOf.set(layer.name, ['gamma', 'beta', 'mean', 'var'].map((p) => `${l.name}.${p}`));
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

export interface ExportResult {
  modelJson: string;
  weightsBin: string;
  bytes: number;
}

/**
 * Writes a (masked) model as a tfjs LayersModel: `dir/model.json` + `dir/weights.bin`, loadable
 * with `tf.loadLayersModel` (e.g. `file://dir/model.json` under tfjs-node, or
 * `loadExportedLayersModel(dir)` here). The outputs are logits (no softmax), as `Model.apply`.
 */
export async function exportLayersModel(bundle: WeightBundle, mask: MaskBundle | undefined, dir: string): Promise<ExportResult> {
  const model = buildLayersModel(bundle, mask);
  await fs.mkdir(dir, { recursive: true });
  const modelJson = path.join(dir, 'model.json');
  const weightsBin = path.join(dir, 'weights.bin');
  let bytes = 0;
  try {
    await model.save(
      tf.io.withSaveHandler(async (artifacts) => {
        const data = artifacts.weightData === undefined ? new ArrayBuffer(0) : tf.io.CompositeArrayBuffer.join(artifacts.weightData);
        bytes = data.byteLength;
        const json = {
          format: 'layers-model',
          generatedBy: artifacts.generatedBy,
          convertedBy: null,
          modelTopology: artifacts.modelTopology,
          weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs ?? [] }],
          userDefinedMetadata: { lth: { model: bundle.meta.model, content: bundle.meta.content, masked: mask !== undefined } },
        };
        await fs.writeFile(weightsBin, new Uint8Array(data));
        await fs.writeFile(modelJson, JSON.stringify(json));
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON', weightDataBytes: bytes } };
      }),
    );
  } finally {
    model.dispose();
  }
  return { modelJson, weightsBin, bytes };
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
