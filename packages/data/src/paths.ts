import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';

/**
 * Every place on disk @lth/data reads manifests from or caches downloads in. The package's
 * src/ (tests) and dist/ (built code) are both one level below its root, so the shipped
 * manifests are found the same way from either, in a checkout and in an installed tarball.
 */

/** The root of this package (where package.json and datasets/ are). */
export const PACKAGE_ROOT = dirname(__dirname);

/** The manifests shipped inside @lth/data (`datasets/<name>.json` in the package). */
export const BUNDLED_MANIFESTS = join(PACKAGE_ROOT, 'datasets');

/**
 * The lth checkout this package is part of, or undefined when it is installed from a tarball
 * or a registry. A checkout is recognised by its layout, not by searching upwards: this
 * package is `packages/data` of a root whose package.json is the `lth` workspace. (A consumer
 * project with workspaces of its own is therefore never mistaken for one.)
 */
export function checkoutRoot(): string | undefined {
  const root = resolve(PACKAGE_ROOT, '..', '..');
  if (resolve(root, 'packages', 'data') !== PACKAGE_ROOT) return undefined;
  try {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { name?: unknown; workspaces?: unknown };
    return pkg.name === 'lth' && Array.isArray(pkg.workspaces) ? root : undefined;
  } catch {
    return undefined;
  }
}

/** Where manifests live: LTH_DATASETS_DIR, else the ones shipped in the package. */
export function manifestDir(env: NodeJS.ProcessEnv = process.env): string {
  return env['LTH_DATASETS_DIR'] ? resolve(env['LTH_DATASETS_DIR']) : BUNDLED_MANIFESTS;
}

/** Which rule chose the download cache (`lth datasets` prints it). */
export type CacheDirRule = 'LTH_DATA_DIR' | 'checkout' | 'XDG_CACHE_HOME' | 'home';

/**
 * The download cache and the rule that chose it, first match wins:
 * 1. `$LTH_DATA_DIR`;
 * 2. in a checkout, `datasets/.cache` at its root (as before the packages were installable);
 * 3. `$XDG_CACHE_HOME/lth/datasets` (an absolute XDG_CACHE_HOME only, as the XDG spec says);
 * 4. `~/.cache/lth/datasets`.
 */
export function cacheDirChoice(env: NodeJS.ProcessEnv = process.env): { dir: string; rule: CacheDirRule } {
  return chooseCacheDir(env, checkoutRoot());
}

/** cacheDirChoice for a given checkout (undefined: installed outside one). */
export function chooseCacheDir(env: NodeJS.ProcessEnv, checkout: string | undefined): { dir: string; rule: CacheDirRule } {
  if (env['LTH_DATA_DIR']) return { dir: resolve(env['LTH_DATA_DIR']), rule: 'LTH_DATA_DIR' };
  if (checkout) return { dir: join(checkout, 'datasets', '.cache'), rule: 'checkout' };
  const xdg = env['XDG_CACHE_HOME'];
  if (xdg && isAbsolute(xdg)) return { dir: join(xdg, 'lth', 'datasets'), rule: 'XDG_CACHE_HOME' };
  return { dir: join(env['HOME'] || homedir(), '.cache', 'lth', 'datasets'), rule: 'home' };
}

/** The download cache directory (see cacheDirChoice). */
export function cacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return cacheDirChoice(env).dir;
}
