import { mkdtempSync, readFileSync, writeFileSync, truncateSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hashFile } from './hash';
import { readTensors, writeTensors, VALUES_PER_BATCH, type TensorBundle } from './tensors';
import { tableFromIPC } from 'apache-arrow';
import { writeMetrics } from './metrics';

const dir = mkdtempSync(join(tmpdir(), 'lth-tensors-'));
const model = { arch: 'lenet_300_100', options: {} };

describe('tensors artifact', () => {
  it('round-trips 0-d, 1-d and n-d float tensors with roles and metadata', async () => {
    const bundle: TensorBundle = {
      meta: { content: 'trained', model, iteration: 500, seed: 3 },
      tensors: [
        { name: 'scalar', role: 'bias', shape: [], values: new Float32Array([1.5]) },
        { name: 'fc1.b', role: 'bias', shape: [3], values: new Float32Array([0, -1, 2.25]) },
        { name: 'fc1.w', role: 'fc', shape: [2, 3], values: new Float32Array([1, 2, 3, 4, 5, 6]) },
        { name: 'empty', role: 'fc', shape: [0, 4], values: new Float32Array(0) },
      ],
    };
    const file = join(dir, 'w.arrow');
    await writeTensors(file, bundle);
    const back = readTensors(file);
    expect(back.meta).toEqual({ ...bundle.meta, model: { arch: 'lenet_300_100', options: {} } });
    expect(back.tensors.map((t) => [t.name, t.role, t.shape, Array.from(t.values)])).toEqual(
      bundle.tensors.map((t) => [t.name, t.role, t.shape, Array.from(t.values)]),
    );
    expect(back.tensors[0]!.values).toBeInstanceOf(Float32Array);
  });

  it('round-trips uint8 masks and an empty bundle', async () => {
    const mask: TensorBundle = {
      meta: { content: 'mask', model },
      tensors: [{ name: 'fc1.w', role: 'fc', shape: [2, 2], values: new Uint8Array([1, 0, 0, 1]) }],
    };
    await writeTensors(join(dir, 'm.arrow'), mask);
    const back = readTensors(join(dir, 'm.arrow'));
    expect(back.tensors[0]!.values).toBeInstanceOf(Uint8Array);
    expect(Array.from(back.tensors[0]!.values)).toEqual([1, 0, 0, 1]);
    await writeTensors(join(dir, 'e.arrow'), { meta: { content: 'mask', model }, tensors: [] });
    expect(readTensors(join(dir, 'e.arrow')).tensors).toEqual([]);
  });

  it('splits large bundles into several record batches', async () => {
    const big = new Float32Array(VALUES_PER_BATCH + 10).map((_, i) => i % 97);
    const file = join(dir, 'big.arrow');
    await writeTensors(file, {
      meta: { content: 'init', model },
      tensors: [
        { name: 'a', role: 'conv', shape: [big.length], values: big },
        { name: 'b', role: 'bias', shape: [2], values: new Float32Array([7, 8]) },
      ],
    });
    const table = tableFromIPC(readFileSync(file));
    expect(table.batches.length).toBe(2);
    const back = readTensors(file);
    expect(back.tensors[0]!.values.length).toBe(big.length);
    expect(back.tensors[0]!.values[VALUES_PER_BATCH + 9]).toBe((VALUES_PER_BATCH + 9) % 97);
    expect(Array.from(back.tensors[1]!.values)).toEqual([7, 8]);
  });

  it('rejects shapes that do not match the values', async () => {
    await expect(
      writeTensors(join(dir, 'bad.arrow'), {
        meta: { content: 'init', model },
        tensors: [{ name: 'x', role: 'fc', shape: [2, 2], values: new Float32Array(3) }],
      }),
    ).rejects.toThrow("tensor 'x' has 3 values but shape [2,2] needs 4");
  });

  it('names the file and the problem for truncated, corrupted, wrong-kind and newer files', async () => {
    const file = join(dir, 't.arrow');
    await writeTensors(file, { meta: { content: 'init', model }, tensors: [{ name: 'x', role: 'fc', shape: [4], values: new Float32Array([1, 2, 3, 4]) }] });
    const hash = await hashFile(file);
    expect(readTensors(file, { sha256: hash }).tensors).toHaveLength(1);

    const corrupt = join(dir, 'corrupt.arrow');
    const bytes = readFileSync(file);
    bytes[Math.floor(bytes.length / 2)] ^= 0xff;
    writeFileSync(corrupt, bytes);
    expect(() => readTensors(corrupt, { sha256: hash })).toThrow(`${corrupt}: content hash mismatch`);

    const truncated = join(dir, 'trunc.arrow');
    writeFileSync(truncated, readFileSync(file));
    truncateSync(truncated, statSync(truncated).size - 20);
    expect(() => readTensors(truncated)).toThrow(`${truncated}: truncated Arrow IPC file`);

    const notArrow = join(dir, 'junk.arrow');
    writeFileSync(notArrow, 'hello world, not arrow at all');
    expect(() => readTensors(notArrow)).toThrow(`${notArrow}: not an Arrow IPC file`);

    const metrics = join(dir, 'metrics.arrow');
    await writeMetrics(metrics, { meta: {}, rows: [] });
    expect(() => readTensors(metrics)).toThrow(`${metrics}: is a 'metrics' artifact, expected 'tensors'`);

    const newer = join(dir, 'newer.arrow');
    writeFileSync(newer, Buffer.from(readFileSync(file).toString('latin1').replace('"lth.version"', '"lth.version"'), 'latin1'));
  });
});
