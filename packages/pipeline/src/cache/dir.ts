import { statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

/** `--cache-dir`, else LTH_CACHE_DIR, else `.lth/cache` in the working directory. */
export function resolveCacheDir(flag?: string, env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): string {
  return resolve(cwd, flag ?? env['LTH_CACHE_DIR'] ?? '.lth/cache');
}

/**
 * Why `dir` cannot be a cache directory (it, or the nearest existing parent, is not a
 * directory), or undefined. Permission and space problems show up at the first write.
 */
export function cacheDirProblem(dir: string): string | undefined {
  for (let p = resolve(dir); ; p = dirname(p)) {
    try {
      const st = statSync(p);
      if (st.isDirectory()) return undefined;
      return p === resolve(dir) ? `${dir} is not a directory` : `${dir} cannot be created: ${p} is not a directory`;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOTDIR') continue;
      if (code !== 'ENOENT' || dirname(p) === p) return undefined;
    }
  }
}
