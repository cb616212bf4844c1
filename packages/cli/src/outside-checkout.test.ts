import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { encodeIdx } from '@lth/data';
import { tempDir } from './__tests__/harness';

// Issue #16, "datasets outside the repo": `lth` run from a project that is not the lth checkout,
// with HOME and XDG_CACHE_HOME in a temp directory. The project's node_modules links every
// package (the @lth ones and their dependencies) and Node runs with --preserve-symlinks, so the
// packages see themselves at <project>/node_modules/@lth/..., as after `npm install`, not in
// this checkout. (tools/consumer-test.mjs does the same with real tarballs.)

const REPO = resolve(__dirname, '..', '..', '..');

/** A project directory whose node_modules links the workspace packages and their dependencies. */
function project(): { root: string; proj: string } {
  const root = tempDir();
  const proj = join(root, 'proj');
  mkdirSync(join(proj, 'node_modules', '@lth'), { recursive: true });
  writeFileSync(join(proj, 'package.json'), JSON.stringify({ name: 'consumer', private: true }));
  for (const name of readdirSync(join(REPO, 'packages'))) symlinkSync(join(REPO, 'packages', name), join(proj, 'node_modules', '@lth', name));
  for (const name of readdirSync(join(REPO, 'node_modules'))) {
    if (name === '@lth' || name.startsWith('.')) continue;
    symlinkSync(join(REPO, 'node_modules', name), join(proj, 'node_modules', name));
  }
  return { root, proj };
}

/** Runs the project's `lth` (from sources) in `cwd`, with only `env` as lth's variables. */
function lthIn(proj: string, args: string[], env: Record<string, string>): Promise<{ code: number | null; out: string; err: string }> {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('LTH_') && k !== 'XDG_CACHE_HOME'));
  const node = ['--preserve-symlinks', '--preserve-symlinks-main', '--conditions=@lth/source', '-r', join(REPO, 'packages', 'pipeline', 'ts-register.cjs')];
  const child = spawn(process.execPath, [...node, join(proj, 'node_modules', '@lth', 'cli', 'src', 'bin.ts'), ...args], {
    cwd: proj,
    env: { ...clean, LTH_BACKEND: 'cpu', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  return new Promise((res) => child.on('close', (code) => res({ code, out, err })));
}

let server: Server;
let base: string;
const served = new Map<string, Buffer>();
beforeAll(async () => {
  server = createServer((req, res) => {
    const body = served.get(req.url ?? '');
    if (body) res.writeHead(200, { 'content-length': body.length }).end(body);
    else res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

describe('lth outside the checkout', () => {
  it('lth datasets lists the shipped manifests and names the per-user cache (XDG_CACHE_HOME, else ~/.cache)', async () => {
    const { root, proj } = project();
    const xdg = await lthIn(proj, ['datasets'], { HOME: join(root, 'home'), XDG_CACHE_HOME: join(root, 'xdg') });
    expect({ code: xdg.code, err: xdg.err }).toEqual({ code: 0, err: '' });
    expect(xdg.out).toMatch(/^mnist +local +MNIST handwritten digits/m);
    expect(xdg.out).toMatch(/^cifar10 +\S+ +CIFAR-10/m);
    expect(xdg.out).toContain(`downloads are cached in ${join(root, 'xdg', 'lth', 'datasets')} (under XDG_CACHE_HOME; LTH_DATA_DIR overrides)`);
    const home = await lthIn(proj, ['datasets'], { HOME: join(root, 'home') });
    expect(home.code).toBe(0);
    expect(home.out).toContain(`downloads are cached in ${join(root, 'home', '.cache', 'lth', 'datasets')} (the per-user cache`);
    // Listing creates no cache directory. (The SWC loader of this test keeps its own files in
    // the XDG cache, so only lth's directory is looked at.)
    expect(existsSync(join(root, 'xdg', 'lth'))).toBe(false);
    expect(existsSync(join(root, 'home', '.cache', 'lth'))).toBe(false);
  });

  it('a download goes to $XDG_CACHE_HOME/lth/datasets and is used from there by the next run', async () => {
    const { root, proj } = project();
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
    const files: Record<string, unknown> = {};
    for (const [role, b] of Object.entries(raw)) {
      served.set(`/outside/${role}`, Buffer.from(b));
      files[role] = { name: `${role}-idx`, size: b.length, sha256: createHash('sha256').update(b).digest('hex'), url: `${base}/outside/${role}` };
    }
    const manifests = join(root, 'manifests');
    mkdirSync(manifests);
    const manifest = {
      name: 'mnist',
      description: 'tiny',
      format: 'idx',
      shape: [28, 28, 1],
      classes: [...'0123456789'],
      counts: { train: 30, test: 10 },
      files,
    };
    writeFileSync(join(manifests, 'mnist.json'), JSON.stringify(manifest));
    writeFileSync(join(proj, 'load.yaml'), 'name: load\nstages:\n  data: { uses: data/load, with: { dataset: mnist, validation: 5 } }\n');
    const env = { HOME: join(root, 'home'), XDG_CACHE_HOME: join(root, 'xdg'), LTH_DATASETS_DIR: manifests };

    const r = await lthIn(proj, ['run', 'load.yaml', '--in-process'], env);
    expect({ code: r.code, err: r.err }).toMatchObject({ code: 0 });
    const cached = join(root, 'xdg', 'lth', 'datasets', 'mnist');
    expect(readdirSync(cached).sort()).toEqual(
      Object.keys(raw)
        .map((role) => `${role}-idx`)
        .sort(),
    );
    expect(Buffer.from(readFileSync(join(cached, 'train-labels-idx'))).equals(Buffer.from(raw['train-labels']!))).toBe(true);
    // The pipeline cache is the project's own .lth/, relative to where lth runs.
    expect(existsSync(join(proj, '.lth', 'cache'))).toBe(true);

    // Offline, with the server's files gone, a new pipeline cache still loads from the data cache.
    served.clear();
    const again = await lthIn(proj, ['run', 'load.yaml', '--in-process', '--cache-dir', join(root, 'cache2')], { ...env, LTH_OFFLINE: '1' });
    expect({ code: again.code, err: again.err }).toMatchObject({ code: 0 });
  });
});
