import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hashFile, writeArtifact, type Dataset } from '@lth/artifacts';
import type { TaskInput } from '../cache/bind';
import { clearInputMemo, inputMemoSize, readInput } from './read-inputs';

const dir = mkdtempSync(join(tmpdir(), 'lth-read-inputs-'));

/** 5 images of 2x2x1; `shift` makes another dataset with other bytes. */
function dataset(shift = 0): Dataset {
  return {
    meta: {
      name: 'tiny',
      shape: [2, 2, 1],
      classes: ['a', 'b'],
      splits: { train: { offset: 0, count: 3 }, validation: { offset: 3, count: 1 }, test: { offset: 4, count: 1 } },
      normalization: { mean: [0.5], std: [0.25] },
      source: { origin: 'test', files: { 'x.idx': 'ab'.repeat(32) } },
      seed: 7,
    },
    images: Uint8Array.from({ length: 20 }, (_, i) => i * 10 + shift),
    labels: Uint8Array.from([0, 1, 1, 0, 1]),
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
    expect(second.meta.splits.train.count).toBe(3);
  });

  it('keeps at most the byte limit, dropping the least recently used', async () => {
    const a = await stored('c1.arrow', dataset(1));
    const b = await stored('c2.arrow', dataset(2));
    const c = await stored('c3.arrow', dataset(3));
    const limit = 2 * 25; // two datasets of 20 pixel bytes + 5 labels
    readInput(a, limit);
    readInput(b, limit);
    readInput(a, limit); // a is now the most recent
    readInput(c, limit); // drops b
    expect(inputMemoSize()).toEqual({ datasets: 2, bytes: 50 });
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
