import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hashFile, writeArtifact, type Dataset } from '@lth/artifacts';
import type { TaskInput } from '../cache/bind';
import { clearInputMemo, inputMemoSize, readInput } from './read-inputs';

const dir = mkdtempSync(join(tmpdir(), 'lth-read-inputs-'));

/** 6 RGB images of 1x2 (4 train, 1 validation, 1 test); `shift` makes another dataset with other bytes. */
function dataset(shift = 0): Dataset {
  const splits = { train: { offset: 0, count: 4 }, validation: { offset: 4, count: 1 }, test: { offset: 5, count: 1 } };
  const meta = { name: 'memo', shape: [1, 2, 3] as [number, number, number], classes: ['p', 'q', 'r'], splits, seed: 1 };
  return {
    meta: { ...meta, normalization: { mean: [0.5, 0.5, 0.5], std: [0.2, 0.2, 0.2] }, source: { origin: 'test', files: {} } },
    images: Uint8Array.from({ length: 36 }, (_, i) => (i * 7 + shift) % 256),
    labels: Uint8Array.from([0, 1, 2, 0, 1, 2]),
  };
}

async function stored(name: string, d: Dataset): Promise<TaskInput> {
  const file = join(dir, name);
  await writeArtifact(file, 'dataset', d);
  return { stage: 'data', port: 'dataset', file, kind: 'dataset', sha256: await hashFile(file) };
}

afterEach(() => clearInputMemo());

describe('readInput: datasets kept by content hash in the worker process', () => {
  it('a second task naming the same hash gets the verified bytes, even after the file changed on disk', async () => {
    const input = await stored('a.arrow', dataset());
    const first = readInput(input) as Dataset;
    expect(Array.from(first.images)).toEqual(Array.from(dataset().images));
    // Corrupt the file: this process already verified the content this hash names.
    const bytes = readFileSync(input.file);
    bytes[bytes.length - 40] ^= 0xff;
    writeFileSync(input.file, bytes);
    const again = readInput(input) as Dataset;
    expect(Array.from(again.images)).toEqual(Array.from(dataset().images));
    expect(again.meta).toEqual(dataset().meta);
    // A fresh process (an empty memo) reads the file and refuses it.
    clearInputMemo();
    expect(() => readInput(input)).toThrow(/sha256|hash/i);
  });

  it('each task gets its own arrays: a stage writing into its input changes nothing for the next', async () => {
    const input = await stored('b.arrow', dataset());
    const first = readInput(input) as Dataset;
    first.images.fill(0);
    first.labels[0] = 1;
    first.meta.splits.train.count = 99;
    const second = readInput(input) as Dataset;
    expect(Array.from(second.images)).toEqual(Array.from(dataset().images));
    expect(second.labels[0]).toBe(0);
    expect(second.meta.splits.train.count).toBe(4);
  });

  it('keeps at most the byte limit, dropping the least recently used', async () => {
    const a = await stored('c1.arrow', dataset(1));
    const b = await stored('c2.arrow', dataset(2));
    const c = await stored('c3.arrow', dataset(3));
    const limit = 2 * 42; // two datasets of 36 pixel bytes + 6 labels
    readInput(a, limit);
    readInput(b, limit);
    readInput(a, limit); // a is now the most recent
    readInput(c, limit); // drops b
    expect(inputMemoSize()).toEqual({ datasets: 2, bytes: 84 });
    writeFileSync(b.file, 'not an artifact');
    writeFileSync(a.file, 'not an artifact');
    expect((readInput(a, limit) as Dataset).images[0]).toBe(1);
    expect(() => readInput(b, limit)).toThrow();
    // Larger than the limit: read, never kept.
    clearInputMemo();
    const d = await stored('c4.arrow', dataset(4));
    expect((readInput(d, 10) as Dataset).images[0]).toBe(4);
    expect(inputMemoSize()).toEqual({ datasets: 0, bytes: 0 });
  });

  it('other kinds are read from the file every time', async () => {
    const file = join(dir, 'm.arrow');
    await writeArtifact(file, 'metrics', { meta: {}, rows: [] });
    const input: TaskInput = { stage: 's', port: 'metrics', file, kind: 'metrics', sha256: await hashFile(file) };
    expect(readInput(input)).toEqual({ meta: {}, rows: [] });
    writeFileSync(file, 'changed');
    expect(() => readInput(input)).toThrow();
    expect(inputMemoSize().datasets).toBe(0);
  });
});
