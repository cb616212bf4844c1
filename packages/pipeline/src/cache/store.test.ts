import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hashFile, readArtifact, writeArtifact, type TableArtifact } from '@lth/artifacts';
import { describeContents, ENTRY_VERSION } from './entry';
import { LocalStore, type EntryMeta } from '../index';
import { tempDir } from '../__tests__/helpers';

const KEY = 'ab'.repeat(32);
const table = (v: number): TableArtifact => ({ meta: { title: 't', columns: [{ name: 'v', type: 'float64' }] }, rows: [{ v }] });

/** Commits an entry for KEY whose output holds `v` (a stage that is not reproducible). */
async function commit(store: LocalStore, v: number) {
  const staging = store.begin(KEY);
  await writeArtifact(join(staging.dir, 'out.arrow'), 'table', table(v));
  writeFileSync(join(staging.dir, 'files', 'report.html'), `<p>${v}</p>`);
  const sha256 = await hashFile(join(staging.dir, 'out.arrow'));
  const size = readFileSync(join(staging.dir, 'out.arrow')).length;
  const now = new Date().toISOString();
  const meta: EntryMeta = {
    version: ENTRY_VERSION,
    key: KEY,
    parts: { stage: 'test/work', code: 'c', config: '{}', inputs: {} },
    stage: 'test/work',
    pipeline: 'p',
    path: 's',
    config: {},
    inputs: {},
    outputs: { table: { file: 'out.arrow', kind: 'table', sha256, size } },
    filesDir: 'files',
    contents: await describeContents(staging.dir),
    timings: { startedAt: now, finishedAt: now, durationMs: 1 },
    backend: 'cpu',
  };
  return staging.commit(meta);
}

describe('LocalStore: a forced recompute never pulls an entry from under a reader (defect 7)', () => {
  it('a reader that verified (and pinned) the old entry keeps reading exactly it after the entry is replaced', async () => {
    const root = tempDir();
    const store = new LocalStore(root);
    await commit(store, 1);
    const reader = await store.get(KEY, { repair: false, pinTo: join(root, 'pins', 'reader') });
    expect(reader?.dir).not.toBe(store.entryDir(KEY));
    // another process forces the stage: different bytes, same key
    await commit(store, 2);
    const out = reader?.meta.outputs['table'];
    const read = readArtifact(join(reader?.dir as string, out?.file as string), 'table', { sha256: out?.sha256 });
    expect(read.rows).toEqual([{ v: 1 }]);
    expect(readFileSync(join(reader?.dir as string, 'files', 'report.html'), 'utf8')).toBe('<p>1</p>');
    // and the new entry is whole and verified
    const now = await store.get(KEY);
    expect(readArtifact(join(now?.dir as string, 'out.arrow'), 'table').rows).toEqual([{ v: 2 }]);
    expect(await store.check(KEY)).toBeUndefined();
  });

  it('an entry replaced between reading entry.json and checking its files is read again, not called corrupt', async () => {
    const root = tempDir();
    const problems: string[] = [];
    const store = new LocalStore(root, (m) => problems.push(m));
    await commit(store, 1);
    const get = store.get(KEY, { pinTo: join(root, 'pins', 'r') });
    await commit(store, 2);
    const e = await get;
    expect(e).toBeDefined();
    expect(problems).toEqual([]);
  });
});
