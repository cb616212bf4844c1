import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BUNDLED_MANIFESTS, encodeIdx } from '@lth/data';
import { lth, tempDir, writeFile } from './__tests__/harness';

// Issue #14, defect 1: a dataset manifest decided where lth deletes and writes files. These
// tests run `lth run` on a one-stage data/load pipeline, as a user would, with the manifest
// directory and the data directory set by LTH_DATASETS_DIR and LTH_DATA_DIR.

const PIPELINE = 'name: load\nstages:\n  data: { uses: data/load, with: { dataset: mnist, validation: 5 } }\n';
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

let server: Server;
let base: string;
const served = new Map<string, Buffer>();
let hits = 0;
beforeAll(async () => {
  server = createServer((req, res) => {
    hits++;
    const body = served.get(req.url ?? '');
    if (body) res.writeHead(200, { 'content-length': body.length }).end(body);
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

/** A sandbox: manifests in `manifests/`, the data dir in `data/`, a pipeline; victims go in the root. */
function sandbox() {
  const root = tempDir();
  const manifests = join(root, 'manifests');
  const data = join(root, 'data');
  mkdirSync(manifests);
  mkdirSync(data);
  const pipeline = writeFile(root, 'load.yaml', PIPELINE);
  const run = (env: Record<string, string>) =>
    lth(['run', pipeline, '--cache-dir', join(root, 'cache'), '--in-process'], { LTH_DATASETS_DIR: manifests, LTH_DATA_DIR: data, LTH_BACKEND: 'cpu', ...env });
  return { root, manifests, data, run };
}

function realMnist(): Record<string, unknown> & { files: Record<string, Record<string, unknown>> } {
  return JSON.parse(readFileSync(join(BUNDLED_MANIFESTS, 'mnist.json'), 'utf8'));
}

/** A tiny IDX dataset under the name mnist: 30 training and 10 test images. */
function tinyMnist() {
  const raw: Record<string, Uint8Array> = {
    'train-images': encodeIdx(
      [30, 28, 28],
      new Uint8Array(30 * 784).map((_, i) => (i * 7) % 256),
    ),
    'train-labels': encodeIdx(
      [30],
      new Uint8Array(30).map((_, i) => i % 10),
    ),
    'test-images': encodeIdx([10, 28, 28], new Uint8Array(10 * 784).fill(3)),
    'test-labels': encodeIdx(
      [10],
      new Uint8Array(10).map((_, i) => i),
    ),
  };
  const files = Object.fromEntries(
    Object.entries(raw).map(([role, b]) => [role, { name: `${role}-idx`, size: b.length, sha256: sha256(b), url: `${base}/none/${role}` }]),
  );
  const manifest = {
    name: 'mnist',
    description: 'tiny',
    format: 'idx',
    shape: [28, 28, 1],
    classes: [...'0123456789'],
    counts: { train: 30, test: 10 },
    files,
  };
  return { raw, manifest };
}

describe('dataset manifests cannot reach outside the data directory (lth run, data/load)', () => {
  it('a file name "../../victim.txt" is refused (exit 1, file and field named); the outside file is untouched', async () => {
    const { root, manifests, run } = sandbox();
    const victim = writeFile(root, 'victim.txt', 'precious');
    const m = realMnist();
    m.files['train-labels']!['name'] = '../../victim.txt';
    writeFileSync(join(manifests, 'mnist.json'), JSON.stringify(m));
    const r = await run({ LTH_OFFLINE: '1' });
    expect(r.code).toBe(1);
    expect(r.err).toContain(`${join(manifests, 'mnist.json')}: invalid dataset manifest: files.train-labels.name: must be a plain file name`);
    expect(readFileSync(victim, 'utf8')).toBe('precious');
  });

  it('a download cannot be written outside: a loopback URL with matching size and sha256 is not fetched', async () => {
    const { root, manifests, run } = sandbox();
    const payload = Buffer.from('#!/bin/sh\necho owned\n');
    served.set('/payload', payload);
    const m = realMnist();
    m['local'] = [];
    for (const f of Object.values(m.files)) f['url'] = `${base}/missing`;
    m.files['train-labels'] = { name: '../../written.sh', size: payload.length, sha256: sha256(payload), url: `${base}/payload` };
    writeFileSync(join(manifests, 'mnist.json'), JSON.stringify(m));
    hits = 0;
    const r = await run({ LTH_OFFLINE: '0' });
    expect(r.code).toBe(1);
    expect(r.err).toContain(`${join(manifests, 'mnist.json')}: invalid dataset manifest: files.train-labels.name: must be a plain file name`);
    expect(existsSync(join(root, 'written.sh'))).toBe(false);
    expect(hits).toBe(0);
  });

  it("a wrong sha256 in the manifest does not destroy the user's correct file: it is quarantined unchanged, and restored once the manifest is fixed", async () => {
    const { manifests, data, run } = sandbox();
    const { raw, manifest } = tinyMnist();
    mkdirSync(join(data, 'mnist'));
    for (const [role, b] of Object.entries(raw)) writeFileSync(join(data, 'mnist', `${role}-idx`), b);
    const good = manifest.files['train-labels']!.sha256;
    manifest.files['train-labels']!.sha256 = 'f'.repeat(64);
    writeFileSync(join(manifests, 'mnist.json'), JSON.stringify(manifest));

    const r = await run({ LTH_OFFLINE: '1' });
    expect(r.code).toBe(1);
    const moved = join(data, 'mnist', '.quarantine', `train-labels-idx.sha256-${good.slice(0, 16)}`);
    expect(r.err).toContain(`checksum mismatch for train-labels-idx: expected sha256 ${'f'.repeat(64)}, got ${good}`);
    expect(r.err).toContain(`moved it unchanged to ${moved} (nothing was deleted)`);
    expect(Buffer.from(readFileSync(moved)).equals(Buffer.from(raw['train-labels']!))).toBe(true);

    manifest.files['train-labels']!.sha256 = good;
    writeFileSync(join(manifests, 'mnist.json'), JSON.stringify(manifest));
    const fixed = await run({ LTH_OFFLINE: '1' });
    expect(fixed.code).toBe(0);
    expect(Buffer.from(readFileSync(join(data, 'mnist', 'train-labels-idx'))).equals(Buffer.from(raw['train-labels']!))).toBe(true);
    expect(readdirSync(join(data, 'mnist', '.quarantine'))).toEqual([]);
  });
});

describe('lth datasets with a bad manifest', () => {
  it('exits 2 naming the manifest file and the field, for the listing and for show', async () => {
    const { manifests, data } = sandbox();
    const m = realMnist();
    m.files['test-images']!['name'] = '/etc/passwd';
    writeFileSync(join(manifests, 'mnist.json'), JSON.stringify(m));
    const env = { LTH_DATASETS_DIR: manifests, LTH_DATA_DIR: data, LTH_OFFLINE: '1' };
    const expected = `lth: ${join(manifests, 'mnist.json')}: invalid dataset manifest: files.test-images.name: must be a plain file name`;
    for (const argv of [['datasets'], ['datasets', 'show', 'mnist']]) {
      const r = await lth(argv, env);
      expect({ argv, code: r.code }).toEqual({ argv, code: 2 });
      expect(r.err).toContain(expected);
      expect(r.err).not.toMatch(/\n\s+at /); // a message, not a stack trace
    }
    writeFileSync(join(manifests, 'mnist.json'), '{ "name": "mnist", ');
    const broken = await lth(['datasets'], env);
    expect(broken.code).toBe(2);
    expect(broken.err).toContain(`lth: ${join(manifests, 'mnist.json')}: not valid JSON`);
  });
});
