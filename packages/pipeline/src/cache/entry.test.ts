import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hashBytes } from '@lth/artifacts';
import { tempDir } from '../__tests__/helpers';
import { checkEntryFiles, describeContents, ENTRY_VERSION, type EntryMeta } from './entry';

// Property: whatever names an entry.json lists (it may come from another user's cache or a
// remote store), an entry that names any path other than its own files is never accepted.
describe('entry.json names are confined to their entry (property)', () => {
  const key = 'a'.repeat(64);

  async function entry(): Promise<{ dir: string; meta: EntryMeta }> {
    const root = tempDir();
    const dir = join(root, 'entries', key);
    mkdirSync(join(dir, 'files'), { recursive: true });
    writeFileSync(join(dir, 'weights.arrow'), 'w');
    writeFileSync(join(dir, 'files', 'report.html'), '<p>r</p>');
    // A file outside the entry with the same content: an escape must not verify against it.
    writeFileSync(join(root, 'weights.arrow'), 'w');
    const contents = await describeContents(dir);
    const w = contents.find((f) => f.path === 'weights.arrow')!;
    const meta: EntryMeta = {
      version: ENTRY_VERSION,
      key,
      parts: { stage: 's', code: 'c', config: '{}', inputs: {} },
      stage: 's',
      pipeline: 'p',
      path: 'x',
      config: {},
      inputs: {},
      outputs: { weights: { file: 'weights.arrow', kind: 'tensors', sha256: w.sha256, size: w.size } },
      filesDir: 'files',
      contents,
      timings: { startedAt: '', finishedAt: '', durationMs: 0 },
      backend: 'cpu',
    };
    return { dir, meta };
  }

  it('accepts the genuine entry', async () => {
    const { dir, meta } = await entry();
    expect(await checkEntryFiles(dir, key, meta)).toBeUndefined();
    expect(meta.contents.find((f) => f.path === 'files/report.html')?.sha256).toBe(hashBytes(Buffer.from('<p>r</p>')));
  });

  it('refuses every other name for an output or a listed file (2,000 seeded names)', async () => {
    const { dir, meta } = await entry();
    const parts = ['..', '.', '/', 'weights.arrow', 'files', 'report.html', '\\', '//', 'entries', key.slice(0, 4), '%2e%2e', ''];
    let s = 7;
    const rand = (n: number) => ((s = (s * 1103515245 + 12345) % 2 ** 31), s % n);
    let refused = 0;
    for (let i = 0; i < 2000; i++) {
      let name = '';
      for (let j = 1 + rand(6); j > 0; j--) name += parts[rand(parts.length)];
      if (name === 'weights.arrow' || name === 'files/report.html' || name.length === 0) continue;
      const which = rand(2);
      const mutated: EntryMeta =
        which === 0
          ? { ...meta, outputs: { weights: { ...(meta.outputs['weights'] as EntryMeta['outputs'][string]), file: name } } }
          : { ...meta, contents: meta.contents.map((f) => (f.path === 'files/report.html' ? { ...f, path: name } : f)) };
      const problem = await checkEntryFiles(dir, key, mutated);
      // Every alternative spelling, even one that resolves to a real file inside, is refused.
      expect([name, problem]).toEqual([name, expect.any(String)]);
      refused++;
    }
    expect(refused).toBeGreaterThan(1500);
  });
});
