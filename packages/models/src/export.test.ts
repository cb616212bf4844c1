import { promises as fs } from 'fs';
import * as os from 'os';
import * as path from 'path';
import { createRng, initBackend, tf } from '@lth/compute';
import { plainContext, type ModelRef, type WeightBundle } from '@lth/artifacts';
import { createModel } from './model';
import { randomMask } from './__tests__/random-mask';
import { initWeights } from './init';
import { exportLayersModel, loadExportedLayersModel } from './export';
import { exportModel } from './export-files';
import { exportStage, ExportConfig } from './export-stage';
import { decodeSafetensors } from './safetensors';

const REFS: ModelRef[] = [
  { arch: 'lenet_300_100', options: {} },
  { arch: 'conv2', options: { width: 8, dropout: 0.5 } },
  { arch: 'conv6', options: { width: 4 } },
  { arch: 'vgg19', options: { width: 4 } },
  { arch: 'resnet18', options: { width: 4 } },
];

let dir: string;
beforeAll(async () => {
  await initBackend('wasm').catch(() => initBackend('cpu'));
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'lth-models-export-'));
});
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

describe.each(REFS)('exportLayersModel $arch $options', (ref) => {
  test('tf.loadLayersModel of the written files gives the eval-mode output of the masked model', async () => {
    const rng = createRng('test', 'x');
    const model = createModel(initWeights(ref, 2));
    const [h, w, c] = model.spec.input;
    const x = tf.tensor4d(
      Float32Array.from({ length: 3 * h * w * c }, () => rng.normal()),
      [3, h, w, c],
    );
    // One training-mode pass moves the batch-norm running stats off their initial values.
    model.apply(x, { training: true, rng }).dispose();
    const trained = model.toBundle('trained');
    const mask = randomMask(trained, 4, 0.3);
    model.applyMask(mask);
    const expected = model.apply(x, { training: false });

    const out = path.join(dir, `${ref.arch}`);
    const res = await exportLayersModel(trained, mask, out);
    const stat = await fs.stat(res.weightsBin);
    expect(stat.size).toBe(res.bytes);
    const json = JSON.parse(await fs.readFile(res.modelJson, 'utf8'));
    expect(json.format).toBe('layers-model');
    expect(json.weightsManifest[0].paths).toEqual(['weights.bin']);

    const loaded = await loadExportedLayersModel(out);
    const got = loaded.predict(x) as tf.Tensor;
    expect(got.shape).toEqual(expected.shape);
    const err = tf.tidy(() => tf.max(tf.abs(tf.sub(got, expected))).dataSync()[0]! / tf.max(tf.abs(expected)).dataSync()[0]!);
    expect(err).toBeLessThan(1e-4);
    // Pruned weights are exactly zero in the exported file.
    const first = mask.tensors[0]!;
    const kernel = loaded
      .getWeights()
      .find((v) => v.shape.join() === first.shape.join())!
      .dataSync();
    let leaked = 0;
    first.values.forEach((k, i) => (leaked += !k && kernel[i] !== 0 ? 1 : 0));
    expect(leaked).toBe(0);
    tf.dispose([x, expected, got]);
    loaded.dispose();
    model.dispose();
  });
});

test('a mask for another architecture is an error', async () => {
  const w = initWeights({ arch: 'lenet_300_100', options: {} }, 0);
  const m = randomMask(initWeights({ arch: 'conv2', options: { width: 2 } }, 0), 1, 0.3);
  await expect(exportLayersModel(w, m, path.join(dir, 'bad'))).rejects.toThrow(/mask is for 'conv2' but the weights are 'lenet_300_100'/);
});

describe('exportModel', () => {
  const weights = () => initWeights({ arch: 'conv2', options: { width: 2 } }, 7);
  const input = () => ({
    weights: weights(),
    normalization: { mean: [0.1, 0.2, 0.3], std: [0.4, 0.5, 0.6] },
    classes: ['a', 'b'],
    provenance: { pipeline: 'p', stage: 'round[2].train', cacheKey: 'abc' },
  });

  test('both formats: the four files, the normalization and provenance in model.json, loadable by tfjs-layers', async () => {
    const out = path.join(dir, 'both');
    const r = await exportModel(input(), { format: 'both', dir: out });
    expect(r.files.map((f) => path.basename(f)).sort()).toEqual(['model.json', 'model.py', 'model.safetensors', 'weights.bin']);
    expect((await fs.readdir(out)).sort()).toEqual(['model.json', 'model.py', 'model.safetensors', 'weights.bin']);
    const json = JSON.parse(await fs.readFile(path.join(out, 'model.json'), 'utf8'));
    expect(json.userDefinedMetadata.lth).toMatchObject({
      model: { arch: 'conv2', options: { width: 2 } },
      normalization: { mean: [0.1, 0.2, 0.3], std: [0.4, 0.5, 0.6] },
      classes: ['a', 'b'],
      mask: null,
      provenance: { pipeline: 'p', stage: 'round[2].train', cacheKey: 'abc', seed: 7, content: 'init' },
      input: { layout: 'NHWC', shape: [32, 32, 3] },
    });
    const loaded = await loadExportedLayersModel(out);
    expect(loaded.outputs[0]!.shape).toEqual([null, 10]);
    loaded.dispose();
  });

  test('an existing file is refused by name before anything is written; overwrite replaces', async () => {
    const out = path.join(dir, 'exists');
    await fs.mkdir(out);
    await fs.writeFile(path.join(out, 'model.safetensors'), 'mine');
    await expect(exportModel(input(), { format: 'both', dir: out })).rejects.toThrow(`${path.join(out, 'model.safetensors')} exists`);
    expect(await fs.readdir(out)).toEqual(['model.safetensors']);
    expect(await fs.readFile(path.join(out, 'model.safetensors'), 'utf8')).toBe('mine');
    await exportModel(input(), { format: 'safetensors', dir: out, overwrite: true });
    expect((await fs.readdir(out)).sort()).toEqual(['model.py', 'model.safetensors']);
    expect((await fs.stat(path.join(out, 'model.safetensors'))).size).toBeGreaterThan(1000);
  });

  test('a mask given as the weights, or a bundle missing a tensor, is refused naming it', async () => {
    const w = weights();
    const mask = randomMask(w, 1, 0.3);
    await expect(exportModel({ ...input(), weights: mask as unknown as WeightBundle }, { format: 'tfjs', dir: path.join(dir, 'm') })).rejects.toThrow(
      "holds a mask, not weights of 'conv2'",
    );
    const short = { ...w, tensors: w.tensors.filter((t) => t.name !== 'fc2.bias') };
    await expect(exportModel({ ...input(), weights: short }, { format: 'tfjs', dir: path.join(dir, 'm') })).rejects.toThrow("lacks tensor 'fc2.bias'");
  });
});

describe('models/export stage', () => {
  const data = {
    meta: {
      name: 'tiny',
      shape: [28, 28, 1] as [number, number, number],
      classes: ['a', 'b'],
      splits: { train: { offset: 0, count: 0 }, validation: { offset: 0, count: 0 }, test: { offset: 0, count: 0 } },
      normalization: { mean: [0.13], std: [0.31] },
      source: { origin: 'test', files: {} },
      seed: 0,
    },
    images: new Uint8Array(0),
    labels: new Uint8Array(0),
  };
  const ctx = (out: string) =>
    plainContext(out, {
      log: () => {},
      inputTimings: {
        weights: [{ stage: 'round[1].train', durationMs: 1 }],
        mask: [{ stage: 'round[1].prune', durationMs: 1 }],
        data: [{ stage: 'data', durationMs: 1 }],
      },
    });

  test('writes the chosen format into its files directory with the producing stages as provenance', async () => {
    const w = initWeights({ arch: 'lenet_300_100', options: {} }, 0);
    const out = path.join(dir, 'stage');
    await exportStage.run(ctx(out), ExportConfig.parse({ format: 'safetensors' }), { weights: w, mask: randomMask(w, 2, 0.3), data });
    expect((await fs.readdir(out)).sort()).toEqual(['model.py', 'model.safetensors']);
    const { metadata } = decodeSafetensors(await fs.readFile(path.join(out, 'model.safetensors')));
    expect(JSON.parse(metadata['lth.provenance']!)).toEqual({
      content: 'init',
      seed: 0,
      stage: 'round[1].train',
      maskStage: 'round[1].prune',
      dataStage: 'data',
      exportedBy: 'models/export',
    });
    expect(JSON.parse(metadata['lth.normalization']!)).toMatchObject({ mean: [0.13], std: [0.31] });
  });

  test('a mask wired into weights is an error naming the port', async () => {
    const w = initWeights({ arch: 'lenet_300_100', options: {} }, 0);
    await expect(exportStage.run(ctx(path.join(dir, 'stage-bad')), ExportConfig.parse({}), { weights: randomMask(w, 1, 0.3), data })).rejects.toThrow(
      "models/export: input 'weights' holds uint8 'mask' tensors, expected weights",
    );
  });
});
