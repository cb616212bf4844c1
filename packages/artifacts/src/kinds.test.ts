import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Field, Float32, Utf8 } from 'apache-arrow';
import { readArtifact, writeArtifact } from './kinds';
import { makeBatch, schemaWithMeta, writeIpcFile } from './ipc';
import { utf8Data, primitiveData } from './columns';
import { splitView, type Dataset } from './dataset';
import { summarizeSparsity } from './sparsity';
import { readTensors } from './tensors';
import { canonicalJson, hashFile } from './hash';
import { SAMPLES } from './__tests__/samples';

const dir = mkdtempSync(join(tmpdir(), 'lth-kinds-'));

/** 5 images of 2x2x1: 3 train, 1 validation, 1 test (the fuzz test's sample too). */
const tinyDataset = (): Dataset => SAMPLES.dataset();

describe('artifact kinds round-trip', () => {
  it('dataset: pixels, labels, splits and metadata', async () => {
    const file = join(dir, 'd.arrow');
    await writeArtifact(file, 'dataset', tinyDataset());
    const back = readArtifact(file, 'dataset');
    expect(back.meta).toEqual(tinyDataset().meta);
    expect(Array.from(back.images)).toEqual(Array.from(tinyDataset().images));
    expect(Array.from(back.labels)).toEqual([0, 1, 1, 0, 1]);
    const val = splitView(back, 'validation');
    expect(val.count).toBe(1);
    expect(Array.from(val.images)).toEqual([120, 130, 140, 150]);
  });

  it('dataset: rejects labels outside the classes and inconsistent splits', async () => {
    const bad = tinyDataset();
    bad.labels[2] = 5;
    await expect(writeArtifact(join(dir, 'bad.arrow'), 'dataset', bad)).rejects.toThrow('label 5 of row 2 is not a class (0..1)');
    const gap = tinyDataset();
    gap.meta.splits.test.offset = 3;
    await expect(writeArtifact(join(dir, 'gap.arrow'), 'dataset', gap)).rejects.toThrow('splits must be contiguous');
  });

  it('metrics: rows and early-stop metadata, including an empty table', async () => {
    const file = join(dir, 'm.arrow');
    const rows = [
      { iteration: 0, split: 'validation' as const, loss: 2.3, accuracy: 0.1 },
      { iteration: 100, split: 'test' as const, loss: 0.5, accuracy: 0.91 },
    ];
    const meta = { earlyStop: { iteration: 100, validationLoss: 0.4, validationAccuracy: 0.9, testAccuracy: 0.91 }, extra: 'kept' };
    await writeArtifact(file, 'metrics', { meta, rows });
    expect(readArtifact(file, 'metrics')).toEqual({ meta, rows });
    await writeArtifact(join(dir, 'm0.arrow'), 'metrics', { meta: {}, rows: [] });
    expect(readArtifact(join(dir, 'm0.arrow'), 'metrics')).toEqual({ meta: {}, rows: [] });
  });

  it('sparsity: per-layer fractions and totals', async () => {
    const s = summarizeSparsity([
      { layer: 'fc1.w', role: 'fc', total: 10, remaining: 8 },
      { layer: 'out.w', role: 'output', total: 10, remaining: 9 },
    ]);
    expect(s.meta).toEqual({ total: 20, remaining: 17, fraction: 0.85 });
    expect(s.layers.map((l) => l.fraction)).toEqual([0.8, 0.9]);
    const file = join(dir, 's.arrow');
    await writeArtifact(file, 'sparsity', s);
    expect(readArtifact(file, 'sparsity')).toEqual(s);
  });

  it('table: numbers, strings and nulls; empty table keeps its columns', async () => {
    const t = {
      meta: {
        title: 'summary',
        columns: [
          { name: 'variant', type: 'utf8' as const },
          { name: 'acc', type: 'float64' as const },
        ],
      },
      rows: [
        { variant: 'ticket', acc: 0.98 },
        { variant: 'reinit', acc: null },
      ],
    };
    await writeArtifact(join(dir, 't.arrow'), 'table', t);
    expect(readArtifact(join(dir, 't.arrow'), 'table')).toEqual(t);
    await writeArtifact(join(dir, 't0.arrow'), 'table', { meta: t.meta, rows: [] });
    expect(readArtifact(join(dir, 't0.arrow'), 'table')).toEqual({ meta: t.meta, rows: [] });
    await expect(writeArtifact(join(dir, 't1.arrow'), 'table', { meta: t.meta, rows: [{ variant: 3, acc: 1 }] })).rejects.toThrow(
      "row 0, column 'variant': 3 is not utf8",
    );
  });

  it('refuses a newer version, an invalid metadata and a wrong column type, naming the file', async () => {
    const fields = [new Field('name', new Utf8(), false)];
    const newer = join(dir, 'newer.arrow');
    const schema = schemaWithMeta(fields, 'metrics', 2, {});
    await writeIpcFile(newer, schema, [makeBatch(schema, 1, [utf8Data(['x'])])]);
    expect(() => readArtifact(newer, 'metrics')).toThrow(`${newer}: 'metrics' artifact version 2 is newer than this lth supports (1)`);

    const badMeta = join(dir, 'badmeta.arrow');
    const s2 = schemaWithMeta([new Field('layer', new Utf8(), false)], 'sparsity', 1, { total: -1 });
    await writeIpcFile(badMeta, s2, [makeBatch(s2, 1, [utf8Data(['x'])])]);
    expect(() => readArtifact(badMeta, 'sparsity')).toThrow(/missing column 'role'|invalid 'sparsity' metadata/);

    const wrongType = join(dir, 'wrongtype.arrow');
    const s3 = schemaWithMeta([new Field('iteration', new Float32(), false)], 'metrics', 1, {});
    await writeIpcFile(wrongType, s3, [makeBatch(s3, 1, [primitiveData(new Float32(), new Float32Array([1]))])]);
    expect(() => readArtifact(wrongType, 'metrics')).toThrow(`${wrongType}: column 'iteration' has type Float32, expected Int32`);
  });

  it('a 20M-value bundle reads back as views into one file buffer (no per-tensor copy)', async () => {
    // VGG-19-sized: 20M float32 in layers of realistic shapes.
    const shapes = [
      [3, 3, 512, 512],
      [3, 3, 512, 512],
      [3, 3, 512, 512],
      [3, 3, 512, 512],
      [3, 3, 512, 512],
      [3, 3, 512, 512],
      [3, 3, 512, 512],
      [3, 3, 256, 512],
      [3, 3, 256, 256],
      [512, 10],
    ];
    const tensors = shapes.map((shape, i) => {
      const n = shape.reduce((a, b) => a * b, 1);
      const values = new Float32Array(n);
      values[0] = i;
      values[n - 1] = -i;
      return { name: `l${i}`, role: 'conv' as const, shape, values };
    });
    const total = tensors.reduce((a, t) => a + t.values.length, 0);
    expect(total).toBeGreaterThan(18e6);
    const file = join(dir, 'vgg.arrow');
    await writeArtifact(file, 'tensors', { meta: { content: 'init', model: { arch: 'vgg19', options: {} } }, tensors });
    const before = process.memoryUsage().arrayBuffers;
    const back = readTensors(file);
    const grown = process.memoryUsage().arrayBuffers - before;
    expect(grown).toBeLessThan(total * 4 * 1.2);
    const buffers = new Set(back.tensors.map((t) => t.values.buffer));
    expect(buffers.size).toBe(1);
    back.tensors.forEach((t, i) => {
      expect(t.values[0]).toBe(i);
      expect(t.values[t.values.length - 1]).toBe(-i);
    });
  });

  it('hashes files and canonicalizes JSON', async () => {
    const file = join(dir, 'h.arrow');
    await writeArtifact(file, 'metrics', { meta: {}, rows: [] });
    expect(await hashFile(file)).toMatch(/^[0-9a-f]{64}$/);
    expect(canonicalJson({ b: 1, a: { d: [1, { f: 2, e: 3 }], c: undefined } })).toBe('{"a":{"d":[1,{"e":3,"f":2}]},"b":1}');
  });
});
