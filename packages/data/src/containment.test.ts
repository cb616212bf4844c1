import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { encodeIdx } from './idx';
import { loadDataset } from './load';
import { ManifestError } from './manifest';

// Property: whatever file names a manifest holds, loading it through the real entry point
// (loadDataset with LTH_DATASETS_DIR / LTH_DATA_DIR, downloads allowed from a loopback server
// that serves every file with a matching size and sha256) creates, changes or deletes nothing
// outside the data directory. Names are generated from a seeded mix of escape ingredients.

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const ROLES = ['train-images', 'train-labels', 'test-images', 'test-labels'] as const;
const RAW: Record<(typeof ROLES)[number], Uint8Array> = {
  'train-images': encodeIdx(
    [12, 28, 28],
    new Uint8Array(12 * 784).map((_, i) => i % 251),
  ),
  'train-labels': encodeIdx(
    [12],
    new Uint8Array(12).map((_, i) => i % 10),
  ),
  'test-images': encodeIdx([4, 28, 28], new Uint8Array(4 * 784).fill(9)),
  'test-labels': encodeIdx([4], Uint8Array.from([0, 1, 2, 3])),
};
const MANIFESTS = 200;

let root: string;
let data: string;
let manifests: string;
let server: Server;
let base: string;
const saved: Record<string, string | undefined> = {};

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'lth-contain-'));
  // Deep enough that every generated relative escape (at most 8 '..') still lands in root.
  data = join(root, 'l1', 'l2', 'l3', 'l4', 'l5', 'l6', 'l7', 'data');
  manifests = join(root, 'manifests');
  mkdirSync(data, { recursive: true });
  mkdirSync(manifests);
  for (const [i, dir] of ['', 'l1', 'l1/l2/l3', 'l1/l2/l3/l4/l5/l6/l7'].entries()) {
    writeFileSync(join(root, dir, 'victim.txt'), `victim ${i}`);
    writeFileSync(join(root, dir, 'train-labels-idx'), `not the labels ${i}`);
  }
  server = createServer((req, res) => {
    const role = ROLES.find((r) => req.url === `/${r}`);
    if (role) res.writeHead(200, { 'content-length': RAW[role].length }).end(RAW[role]);
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  for (const k of ['LTH_DATASETS_DIR', 'LTH_DATA_DIR', 'LTH_OFFLINE']) saved[k] = process.env[k];
  process.env['LTH_DATASETS_DIR'] = manifests;
  process.env['LTH_DATA_DIR'] = data;
  delete process.env['LTH_OFFLINE'];
});

afterAll(async () => {
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  rmSync(root, { recursive: true, force: true });
});

/** Every file and directory under root outside the data and manifest directories, with content hashes. */
function outside(): Map<string, string> {
  const seen = new Map<string, string>();
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (p === data || p === manifests) continue;
      if (e.isDirectory()) {
        seen.set(relative(root, p), 'dir');
        walk(p);
      } else seen.set(relative(root, p), sha256(readFileSync(p)));
    }
  };
  walk(root);
  return seen;
}

function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A file name built from 1-4 ingredients of path escapes (and of harmless names). */
function randomName(next: () => number): string {
  const pieces = [
    '..',
    '../..',
    '.',
    '/',
    '//',
    '\\',
    '\0',
    'victim.txt',
    'train-labels-idx',
    'quarantine',
    '.quarantine',
    'a b',
    '%2e%2e',
    '~',
    'mnist',
    `${root}/`,
    'é',
    '-',
    '.hidden',
  ];
  let name = '';
  for (let k = 1 + Math.floor(next() * 4); k > 0; k--) name += pieces[Math.floor(next() * pieces.length)];
  return name;
}

it(`${MANIFESTS} seeded manifests with random file names change nothing outside the data directory`, async () => {
  const before = outside();
  const next = rng(1414);
  const outcomes = { loaded: 0, refusedName: 0, otherFailure: 0 };
  for (let i = 0; i < MANIFESTS; i++) {
    const names = ROLES.map((role) => (next() < 0.3 ? randomName(next) : `${role}-idx`));
    const files = Object.fromEntries(
      ROLES.map((role, k) => {
        // Now and then a wrong digest, so that verification failures (and quarantine) happen too.
        const digest = next() < 0.15 ? sha256(Buffer.from(`wrong ${i}`)) : sha256(RAW[role]);
        return [role, { name: names[k], size: RAW[role].length, sha256: digest, url: `${base}/${role}` }];
      }),
    );
    const manifest = {
      name: 'mnist',
      description: 'generated',
      format: 'idx',
      shape: [28, 28, 1],
      classes: [...'0123456789'],
      counts: { train: 12, test: 4 },
      files,
      local: [],
    };
    writeFileSync(join(manifests, 'mnist.json'), JSON.stringify(manifest));
    try {
      await loadDataset({ dataset: 'mnist', validation: 2 }, { progress: false });
      outcomes.loaded++;
    } catch (err) {
      if (err instanceof ManifestError && /^files\.[a-z-]+\.name$/.test(err.field ?? '')) outcomes.refusedName++;
      else if (err instanceof Error && /missing or unusable/.test(err.message)) outcomes.otherFailure++;
      else throw new Error(`manifest ${i} (names ${JSON.stringify(names)}): unexpected ${(err as Error).stack}`, { cause: err });
    }
    expect({ i, names, outside: [...outside()] }).toEqual({ i, names, outside: [...before] });
    // Inside the data directory, only the dataset's own directory.
    expect(readdirSync(data).filter((n) => n !== 'mnist')).toEqual([]);
  }
  console.log(`manifest containment (seed 1414): ${MANIFESTS} manifests, ${JSON.stringify(outcomes)}`);
  // The generator reaches all three outcomes.
  expect(outcomes.loaded).toBeGreaterThan(0);
  expect(outcomes.refusedName).toBeGreaterThan(0);
  expect(outcomes.otherFailure).toBeGreaterThan(0);
});
