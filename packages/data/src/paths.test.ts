import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { BUNDLED_MANIFESTS, cacheDirChoice, checkoutRoot, chooseCacheDir, PACKAGE_ROOT } from './paths';
import { DATASET_NAMES } from './manifest';

// Where @lth/data finds its manifests and caches downloads, in a checkout and installed in a
// project (issue #16, "datasets outside the repo"). The CLI-level check from a directory
// outside the repository is packages/cli/src/outside-checkout.test.ts.

const REPO = resolve(__dirname, '..', '..', '..');

describe('@lth/data paths', () => {
  it('finds the manifests in the package, beside src/ and dist/', () => {
    expect(PACKAGE_ROOT).toBe(resolve(__dirname, '..'));
    for (const name of DATASET_NAMES) expect(existsSync(join(BUNDLED_MANIFESTS, `${name}.json`))).toBe(true);
    // They are shipped: package.json `files` names the directory.
    const pkg = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { files: string[] };
    expect(pkg.files).toContain('datasets');
  });

  it('recognises this checkout by its layout', () => {
    expect(checkoutRoot()).toBe(REPO);
  });

  it('chooses the download cache: LTH_DATA_DIR, the checkout, XDG_CACHE_HOME, ~/.cache', () => {
    const checkout = '/src/lth';
    expect(chooseCacheDir({ LTH_DATA_DIR: 'rel/data', XDG_CACHE_HOME: '/x', HOME: '/h' }, checkout)).toEqual({
      dir: resolve('rel/data'),
      rule: 'LTH_DATA_DIR',
    });
    expect(chooseCacheDir({ XDG_CACHE_HOME: '/x', HOME: '/h' }, checkout)).toEqual({ dir: '/src/lth/datasets/.cache', rule: 'checkout' });
    expect(chooseCacheDir({ XDG_CACHE_HOME: '/x', HOME: '/h' }, undefined)).toEqual({ dir: '/x/lth/datasets', rule: 'XDG_CACHE_HOME' });
    expect(chooseCacheDir({ HOME: '/h' }, undefined)).toEqual({ dir: '/h/.cache/lth/datasets', rule: 'home' });
    // The XDG spec says a relative XDG_CACHE_HOME is invalid and must be ignored.
    expect(chooseCacheDir({ XDG_CACHE_HOME: 'relative', HOME: '/h' }, undefined)).toEqual({ dir: '/h/.cache/lth/datasets', rule: 'home' });
    expect(chooseCacheDir({ XDG_CACHE_HOME: '', HOME: '/h' }, undefined).rule).toBe('home');
  });

  it('keeps datasets/.cache of this checkout as the default in it', () => {
    expect(cacheDirChoice({})).toEqual({ dir: join(REPO, 'datasets', '.cache'), rule: 'checkout' });
  });
});
