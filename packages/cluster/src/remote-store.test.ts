import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import S3rver from 's3rver';
import { LIMITS, LocalStore, type Entry, type EntryMeta } from '@lth/pipeline';
import { blobName, manifestName, RemoteStore } from './remote-store';
import type { RemoteBackend } from './remote/backend';
import { FileBackend } from './remote/file-backend';
import { S3Backend } from './remote/s3-backend';

// The remote store against both kinds: a shared directory, and S3 as spoken by s3rver (an
// S3-protocol server in Node on 127.0.0.1; no real S3, MinIO or Ceph RGW installs here).

const tmp = () => mkdtempSync(join(tmpdir(), 'lth-remote-'));
const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

/** A committed local entry with one output and one extra file. */
async function makeEntry(store: LocalStore, seed: string): Promise<Entry> {
  const key = sha(`key-${seed}`);
  const staging = store.begin(key);
  const out = Buffer.from(`output bytes of ${seed} `.repeat(50));
  const extra = Buffer.from(`# report ${seed}\n`);
  writeFileSync(join(staging.dir, 'table.arrow'), out);
  writeFileSync(join(staging.dir, 'files', 'report.md'), extra);
  const meta: EntryMeta = {
    version: 2,
    key,
    parts: { stage: 'test/x', code: 'c', config: '{}', inputs: {} },
    stage: 'test/x',
    pipeline: 'p',
    path: 'x',
    config: {},
    inputs: {},
    outputs: { table: { file: 'table.arrow', kind: 'table', sha256: sha(out), size: out.length } },
    filesDir: 'files',
    contents: [
      { path: 'files/report.md', sha256: sha(extra), size: extra.length },
      { path: 'table.arrow', sha256: sha(out), size: out.length },
    ],
    timings: { startedAt: new Date().toISOString(), finishedAt: new Date().toISOString(), durationMs: 1 },
    backend: 'cpu',
  };
  return staging.commit(meta);
}

async function withS3<T>(fn: (backend: RemoteBackend) => Promise<T>): Promise<T> {
  const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: tmp(), configureBuckets: [{ name: 'lth-test', configs: [] }] });
  const addr = (await server.run()) as { port: number };
  const saved = { ...process.env };
  Object.assign(process.env, {
    AWS_ENDPOINT_URL: `http://127.0.0.1:${addr.port}`,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'S3RVER',
    AWS_SECRET_ACCESS_KEY: 'S3RVER',
    AWS_S3_FORCE_PATH_STYLE: 'true',
    // s3rver (like older MinIO) does not decode the SDK's default aws-chunked uploads with a
    // checksum trailer: it would store the framing, which the verified download then refuses.
    AWS_REQUEST_CHECKSUM_CALCULATION: 'WHEN_REQUIRED',
  });
  try {
    return await fn(new S3Backend('lth-test', 'team/cache'));
  } finally {
    process.env = saved;
    await server.close();
  }
}

const kinds: Array<[string, <T>(fn: (b: RemoteBackend) => Promise<T>) => Promise<T>]> = [
  ['file://', (fn) => fn(new FileBackend(join(tmp(), 'remote')))],
  ['s3:// (s3rver)', withS3],
];

describe.each(kinds)('RemoteStore on %s', (_name, withBackend) => {
  it('publishes an entry and fetches it, verified, into an empty local cache', () =>
    withBackend(async (backend) => {
      const a = new RemoteStore(new LocalStore(tmp()), backend);
      const entry = await makeEntry(a.local, 'one');
      await a.publish(entry);
      const problems: string[] = [];
      const b = new RemoteStore(new LocalStore(tmp()), backend, (m) => problems.push(m));
      const got = await b.get(entry.key);
      expect(problems).toEqual([]);
      expect(got?.meta).toEqual(entry.meta);
      expect(readFileSync(join(got?.dir as string, 'table.arrow'))).toEqual(readFileSync(join(entry.dir, 'table.arrow')));
      expect(readFileSync(join(got?.dir as string, 'files', 'report.md'), 'utf8')).toBe('# report one\n');
      expect(await b.local.check(entry.key)).toBeUndefined();
      // peek (lth status): the manifest counts, nothing is downloaded
      const c = new RemoteStore(new LocalStore(tmp()), backend, undefined, { peek: true });
      expect((await c.get(entry.key))?.meta.key).toBe(entry.key);
      expect(c.local.keys()).toEqual([]);
    }));

  it('an entry whose manifest was never written does not exist (files published, then a crash)', () =>
    withBackend(async (backend) => {
      const crashing: RemoteBackend = Object.assign(Object.create(Object.getPrototypeOf(backend)), backend, {
        putText: async () => {
          throw new Error('killed before the manifest');
        },
      });
      const a = new RemoteStore(new LocalStore(tmp()), crashing);
      const entry = await makeEntry(a.local, 'two');
      await expect(a.publish(entry)).rejects.toThrow('killed before the manifest');
      expect(await backend.size(blobName(entry.meta.outputs['table']?.sha256 as string))).toBeGreaterThan(0);
      const b = new RemoteStore(new LocalStore(tmp()), backend);
      expect(await b.get(entry.key)).toBeUndefined();
      expect(b.local.keys()).toEqual([]);
    }));

  it('a flipped byte in a remote file is reported, never used, and the entry withdrawn', () =>
    withBackend(async (backend) => {
      const a = new RemoteStore(new LocalStore(tmp()), backend);
      const entry = await makeEntry(a.local, 'three');
      await a.publish(entry);
      const bad = readFileSync(join(entry.dir, 'table.arrow'));
      bad[10] = (bad[10] as number) ^ 1;
      const f = join(tmp(), 'bad');
      writeFileSync(f, bad);
      await backend.putFile(blobName(entry.meta.outputs['table']?.sha256 as string), f);
      const problems: string[] = [];
      const b = new RemoteStore(new LocalStore(tmp()), backend, (m) => problems.push(m));
      expect(await b.get(entry.key)).toBeUndefined();
      expect(problems).toEqual([
        expect.stringMatching(/remote entry \w{12} in .* is corrupt \(file 'table.arrow': content hash mismatch\); withdrawn, recomputing/),
      ]);
      expect(b.local.keys()).toEqual([]);
      expect(await backend.size(manifestName(entry.key))).toBeUndefined();
      // Republished from a sound copy, it is whole again.
      await a.publish(entry);
      expect((await new RemoteStore(new LocalStore(tmp()), backend).get(entry.key))?.key).toBe(entry.key);
    }));

  it('a manifest naming a file outside the entry, or a file longer than listed, is refused', () =>
    withBackend(async (backend) => {
      const a = new RemoteStore(new LocalStore(tmp()), backend);
      const entry = await makeEntry(a.local, 'four');
      await a.publish(entry);
      const root = tmp();
      const problems: string[] = [];
      const b = new RemoteStore(new LocalStore(join(root, 'cache')), backend, (m) => problems.push(m));
      const evil = { ...entry.meta, contents: entry.meta.contents.map((c) => (c.path === 'files/report.md' ? { ...c, path: '../../escaped.md' } : c)) };
      await backend.putText(manifestName(entry.key), JSON.stringify(evil));
      expect(await b.get(entry.key)).toBeUndefined();
      expect(existsSync(join(root, 'escaped.md'))).toBe(false);
      expect(problems[0]).toMatch(/is corrupt .*escaped\.md/);
      // Longer than listed: the download stops at the listed size.
      await a.publish(entry);
      const longer = { ...entry.meta, contents: entry.meta.contents.map((c) => (c.path === 'table.arrow' ? { ...c, size: c.size - 5 } : c)) };
      await backend.putText(manifestName(entry.key), JSON.stringify(longer));
      expect(await b.get(entry.key)).toBeUndefined();
      expect(problems[1]).toMatch(/more than the listed \d+ bytes/);
    }));
});

type Files = EntryMeta['contents'];
const GiB2 = 2 ** 31 - 1;
const manyFiles = (n: number, size: number): Files => Array.from({ length: n }, (_, i) => ({ path: `f${i}`, sha256: '0'.repeat(64), size }));

describe('RemoteStore: a manifest past the cache LIMITS (file://)', () => {
  it.each<[string, (c: Files) => Files, string]>([
    [
      'a 1 TB file',
      (c) => c.map((f, i) => (i === 1 ? { ...f, size: 2 ** 40 } : f)),
      `at contents.1.size (file 'table.arrow': 1099511627776): must be at most ${GiB2} bytes (LIMITS.entryFileBytes)`,
    ],
    ['a negative size', (c) => c.map((f, i) => (i === 0 ? { ...f, size: -1 } : f)), "at contents.0.size (file 'files/report.md': -1): must not be negative"],
    [
      'a fractional size',
      (c) => c.map((f, i) => (i === 1 ? { ...f, size: 10.5 } : f)),
      "at contents.1.size (file 'table.arrow': 10.5): must be a whole number of bytes",
    ],
    ['too many files', () => manyFiles(LIMITS.entryFiles + 1, 1), `at contents: lists more than ${LIMITS.entryFiles} files (LIMITS.entryFiles)`],
    ['more bytes in all than an entry may hold', () => manyFiles(40, GiB2), `at contents: add up to more than ${LIMITS.entryBytes} bytes (LIMITS.entryBytes)`],
  ])('%s: refused before any file is downloaded, naming the remote, the entry and the field; withdrawn', async (_name, tamper, problem) => {
    const backend = new FileBackend(join(tmp(), 'remote'));
    const a = new RemoteStore(new LocalStore(tmp()), backend);
    const entry = await makeEntry(a.local, `limits-${_name}`);
    await a.publish(entry);
    await backend.putText(manifestName(entry.key), JSON.stringify({ ...entry.meta, contents: tamper(entry.meta.contents) }));
    const reads: string[] = [];
    const counting: RemoteBackend = Object.assign(Object.create(Object.getPrototypeOf(backend)), backend, {
      read: (name: string) => (reads.push(name), backend.read(name)),
    });
    const problems: string[] = [];
    const b = new RemoteStore(new LocalStore(tmp()), counting, (m) => problems.push(m));
    expect(await b.get(entry.key)).toBeUndefined();
    expect(problems).toEqual([
      `remote entry ${entry.key.slice(0, 12)} in ${backend.where} is corrupt (the manifest is invalid ${problem}); withdrawn, recomputing`,
    ]);
    expect(reads).toEqual([manifestName(entry.key)]);
    expect(b.local.keys()).toEqual([]);
    expect(await backend.size(manifestName(entry.key))).toBeUndefined();
  });
});
