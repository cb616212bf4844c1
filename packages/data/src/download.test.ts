import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { splitView } from '@lth/artifacts';
import { cifarArchive, cifarManifest, sha256 } from './__tests__/cifar-fixture';
import { CIFAR_RECORD } from './cifar';
import { encodeIdx } from './idx';
import { loadDataset, type LoadReport } from './load';
import type { Manifest } from './manifest';

/** What the test server does for each path: serve bytes, fail with a status, or cut the body short. */
type Route = { body: Buffer } | { status: number } | { truncateAt: number; body: Buffer };

let server: Server;
let base: string;
const routes = new Map<string, Route>();
const hits = new Map<string, number>();

beforeAll(async () => {
  server = createServer((req, res) => {
    const path = req.url ?? '/';
    hits.set(path, (hits.get(path) ?? 0) + 1);
    const r = routes.get(path);
    if (!r) {
      res.writeHead(404).end('not found');
    } else if ('status' in r) {
      res.writeHead(r.status).end('server error');
    } else if ('truncateAt' in r) {
      // Announce the full length, send part of it, then drop the connection.
      res.writeHead(200, { 'content-length': r.body.length });
      res.write(r.body.subarray(0, r.truncateAt), () => res.destroy());
    } else {
      res.writeHead(200, { 'content-length': r.body.length }).end(r.body);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

let cache: string;
beforeEach(() => {
  cache = mkdtempSync(join(tmpdir(), 'lth-data-cache-'));
});
afterEach(() => rmSync(cache, { recursive: true, force: true }));

/** Every file under the cache directory, recursively (temp files included). */
function cacheFiles(): string[] {
  return readdirSync(cache, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath ?? (e as unknown as { path: string }).path, e.name));
}

const PER_BATCH = 50;
const TEST = 50;

describe('CIFAR-10 download, end to end on a local server', () => {
  let archive: Buffer;
  let batches: Map<string, Uint8Array>;
  beforeAll(async () => {
    ({ archive, batches } = await cifarArchive(PER_BATCH, TEST));
  });

  function manifest(path: string): Manifest {
    return cifarManifest(archive, PER_BATCH, TEST, `${base}${path}`);
  }

  it('downloads, verifies, caches by rename, then loads from the cache without the network', async () => {
    routes.set('/ok/cifar-10-binary.tar.gz', { body: archive });
    const report: LoadReport = { files: {} };
    const progress: [number, number | undefined][] = [];
    const ds = await loadDataset(
      { dataset: 'cifar10', validation: 20, seed: 1 },
      { manifest: manifest('/ok/cifar-10-binary.tar.gz'), cacheDir: cache, local: false, progress: false, onProgress: (r, t) => progress.push([r, t]) },
      report,
    );
    expect(report.files['archive']!.origin).toBe('download');
    expect(progress.at(-1)).toEqual([archive.length, archive.length]);
    expect(ds.meta.shape).toEqual([32, 32, 3]);
    expect(ds.meta.splits).toEqual({ train: { offset: 0, count: 230 }, validation: { offset: 230, count: 20 }, test: { offset: 250, count: 50 } });
    expect(ds.meta.source.files).toEqual({ 'cifar-10-binary.tar.gz': sha256(archive) });
    // The test split is test_batch.bin in order, converted to HWC.
    const test = splitView(ds, 'test');
    const tb = batches.get('test_batch.bin')!;
    expect(test.labels[7]).toBe(tb[7 * CIFAR_RECORD]);
    expect(test.images[7 * 3072 + 5 * 3 + 1]).toBe(tb[7 * CIFAR_RECORD + 1 + 1024 + 5]);
    expect(cacheFiles()).toEqual([join(cache, 'cifar10', 'cifar-10-binary.tar.gz')]);
    expect(readFileSync(join(cache, 'cifar10', 'cifar-10-binary.tar.gz')).equals(archive)).toBe(true);

    routes.delete('/ok/cifar-10-binary.tar.gz');
    const again: LoadReport = { files: {} };
    const ds2 = await loadDataset(
      { dataset: 'cifar10', validation: 20, seed: 1 },
      { manifest: manifest('/ok/cifar-10-binary.tar.gz'), cacheDir: cache, local: false, download: false },
      again,
    );
    expect(again.files['archive']!.origin).toBe('cache');
    expect(Buffer.from(ds2.images).equals(Buffer.from(ds.images))).toBe(true);
    expect(hits.get('/ok/cifar-10-binary.tar.gz')).toBe(1);
  });

  it('rejects a checksum mismatch and leaves nothing in the cache', async () => {
    const tampered = Buffer.from(archive);
    tampered[tampered.length - 20] = tampered[tampered.length - 20]! ^ 0xff;
    routes.set('/bad/cifar-10-binary.tar.gz', { body: tampered });
    await expect(
      loadDataset(
        { dataset: 'cifar10', validation: 20 },
        { manifest: manifest('/bad/cifar-10-binary.tar.gz'), cacheDir: cache, local: false, progress: false },
      ),
    ).rejects.toThrow(new RegExp(`checksum mismatch for cifar-10-binary\\.tar\\.gz: expected sha256 ${sha256(archive)}, got ${sha256(tampered)}`));
    expect(cacheFiles()).toEqual([]);
  });

  it('rejects a truncated download and leaves nothing in the cache', async () => {
    routes.set('/cut/cifar-10-binary.tar.gz', { body: archive, truncateAt: 10000 });
    await expect(
      loadDataset(
        { dataset: 'cifar10', validation: 20 },
        { manifest: manifest('/cut/cifar-10-binary.tar.gz'), cacheDir: cache, local: false, progress: false },
      ),
    ).rejects.toThrow(/cifar-10-binary\.tar\.gz.*(interrupted after \d+ of \d+ bytes|truncated)/);
    expect(cacheFiles()).toEqual([]);
  });

  it('reports an HTTP 500, with the ways to provide the file, and leaves nothing in the cache', async () => {
    routes.set('/500/cifar-10-binary.tar.gz', { status: 500 });
    const err = await loadDataset(
      { dataset: 'cifar10', validation: 20 },
      { manifest: manifest('/500/cifar-10-binary.tar.gz'), cacheDir: cache, local: false, progress: false },
    ).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    const msg = (err as Error).message;
    expect(msg).toMatch(/dataset cifar10: 1 file\(s\) missing or unusable/);
    expect(msg).toMatch(/cifar-10-binary\.tar\.gz:\n\s+- cache: not in .*cifar10/);
    expect(msg).toMatch(/download: download of cifar-10-binary\.tar\.gz from http:\/\/127\.0\.0\.1:\d+\/500\/cifar-10-binary\.tar\.gz failed: HTTP 500/);
    expect(msg).toMatch(/Ways to provide them:\n\s+- put verified copies/);
    expect(cacheFiles()).toEqual([]);
  });

  it('moves a corrupted cached file to .quarantine/ unchanged and downloads a fresh copy', async () => {
    routes.set('/ok2/cifar-10-binary.tar.gz', { body: archive });
    const file = join(cache, 'cifar10', 'cifar-10-binary.tar.gz');
    mkdirSync(join(cache, 'cifar10'), { recursive: true });
    writeFileSync(file, archive.subarray(0, 5000));
    const logs: string[] = [];
    const report: LoadReport = { files: {} };
    await loadDataset(
      { dataset: 'cifar10', validation: 20 },
      { manifest: manifest('/ok2/cifar-10-binary.tar.gz'), cacheDir: cache, local: false, progress: false, log: (m) => logs.push(m) },
      report,
    );
    expect(report.files['archive']!.origin).toBe('download');
    const moved = join(cache, 'cifar10', '.quarantine', `cifar-10-binary.tar.gz.sha256-${sha256(archive.subarray(0, 5000)).slice(0, 16)}`);
    expect(logs.join('\n')).toContain(`has 5000 bytes, the manifest says ${archive.length} (truncated); moved it unchanged to ${moved} (nothing was deleted)`);
    expect(readFileSync(moved).equals(archive.subarray(0, 5000))).toBe(true);
    expect(readFileSync(file).equals(archive)).toBe(true);
  });

  it('offline with nothing cached: the error says which files are missing', async () => {
    await expect(
      loadDataset({ dataset: 'cifar10', validation: 20 }, { manifest: manifest('/none'), cacheDir: cache, local: false, download: false }),
    ).rejects.toThrow(/cifar-10-binary\.tar\.gz:[\s\S]*download: disabled \(offline\), would fetch http/);
  });
});

describe('IDX download (gzip on the wire, raw in the cache)', () => {
  it('gunzips, verifies the content and the download digests, and caches the raw file', async () => {
    const n = 30;
    const imgs = encodeIdx(
      [n, 28, 28],
      new Uint8Array(n * 784).map((_, i) => (i * 7) % 256),
    );
    const labs = encodeIdx(
      [n],
      new Uint8Array(n).map((_, i) => i % 10),
    );
    const tImgs = encodeIdx([10, 28, 28], new Uint8Array(10 * 784).fill(3));
    const tLabs = encodeIdx(
      [10],
      new Uint8Array(10).map((_, i) => i),
    );
    const files: Manifest['files'] = {};
    for (const [role, raw] of [
      ['train-images', imgs],
      ['train-labels', labs],
      ['test-images', tImgs],
      ['test-labels', tLabs],
    ] as const) {
      const gz = gzipSync(raw);
      routes.set(`/idx/${role}.gz`, { body: gz });
      files[role] = {
        name: `${role}-idx`,
        size: raw.length,
        sha256: sha256(raw),
        url: `${base}/idx/${role}.gz`,
        download: { gzip: true, size: gz.length, sha256: sha256(gz) },
      };
    }
    const m: Manifest = {
      name: 'mnist',
      description: 'tiny',
      format: 'idx',
      shape: [28, 28, 1],
      classes: [...'0123456789'],
      counts: { train: n, test: 10 },
      files,
      local: [],
    };
    const ds = await loadDataset({ dataset: 'mnist', validation: 5, seed: 3 }, { manifest: m, cacheDir: cache, local: false, progress: false });
    expect(ds.meta.splits.train.count).toBe(25);
    expect(ds.meta.splits.test.count).toBe(10);
    expect(readFileSync(join(cache, 'mnist', 'train-images-idx')).equals(Buffer.from(imgs))).toBe(true);
    expect(existsSync(join(cache, 'mnist', 'test-labels-idx'))).toBe(true);

    // A download whose compressed bytes differ from the manifest's digest is rejected before use.
    rmSync(join(cache, 'mnist'), { recursive: true });
    routes.set('/idx/test-labels.gz', { body: gzipSync(tLabs, { level: 1 }) });
    files['test-labels']!.download!.sha256 = '0'.repeat(64);
    await expect(loadDataset({ dataset: 'mnist', validation: 5 }, { manifest: m, cacheDir: cache, local: false, progress: false })).rejects.toThrow(
      /download of test-labels-idx from .* checksum mismatch: expected sha256 0{64}/,
    );
    expect(existsSync(join(cache, 'mnist', 'test-labels-idx'))).toBe(false);
  });
});
