import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';

/**
 * Code fingerprints: a stage's cache key changes whenever the code that could change its
 * output changes, without anyone bumping a version.
 *
 * fingerprint(package) = sha256 over
 *   - its code: every `dist/**\/*.js` when the package is built, else `src/**\/*.ts` minus tests
 *     (relative path and content of each file, in sorted order);
 *   - the fingerprint of each `@lth/*` dependency (transitively);
 *   - `name@version` of each third-party dependency, as installed (node_modules package.json).
 * Computed once per package per process.
 */
const memo = new Map<string, string>();

export function clearFingerprintCache(): void {
  memo.clear();
}

/** Fingerprint of the package a registry entry names: an npm name or a module file path. */
export function codeFingerprint(pkg: string, from: string = process.cwd()): string {
  const key = `${pkg}\0${from}`;
  const hit = memo.get(key);
  if (hit) return hit;
  let fp: string;
  if (pkg.startsWith('.') || pkg.startsWith(sep) || /^[A-Za-z]:/.test(pkg)) {
    // A stage module given as a file: its own bytes plus the package that contains it.
    if (existsSync(join(pkg, 'package.json'))) {
      fp = packageFingerprint(pkg, []);
      memo.set(key, fp);
      return fp;
    }
    const file = resolveModuleFile(pkg);
    const dir = findPackageDir(dirname(file));
    const h = createHash('sha256').update(`file:${readFileSync(file).toString('base64')}`);
    if (dir) h.update(`pkg:${packageFingerprint(dir, [])}`);
    fp = h.digest('hex');
  } else {
    const dir = findInstalled(pkg, [from, __dirname]);
    if (!dir) throw new Error(`cannot fingerprint stage package '${pkg}': not found in node_modules from ${from}`);
    fp = packageFingerprint(dir, []);
  }
  memo.set(key, fp);
  return fp;
}

/** Fingerprint of a package directory (see the module comment). */
export function packageFingerprint(dir: string, chain: string[]): string {
  const real = realpathSync(dir);
  const hit = memo.get(real);
  if (hit) return hit;
  if (chain.includes(real)) return 'cycle';
  const pj = JSON.parse(readFileSync(join(real, 'package.json'), 'utf8')) as { name?: string; version?: string; dependencies?: Record<string, string> };
  const h = createHash('sha256');
  h.update(`package:${pj.name ?? '?'}@${pj.version ?? '?'}\n`);
  for (const file of codeFiles(real)) {
    h.update(`file:${relative(real, file).split(sep).join('/')}\n`);
    h.update(readFileSync(file));
    h.update('\n');
  }
  for (const dep of Object.keys(pj.dependencies ?? {}).sort()) {
    const depDir = findInstalled(dep, [real]);
    if (!depDir) {
      h.update(`dep:${dep}@missing\n`);
      continue;
    }
    if (dep.startsWith('@lth/')) h.update(`dep:${dep}:${packageFingerprint(depDir, [...chain, real])}\n`);
    else {
      const v = (JSON.parse(readFileSync(join(depDir, 'package.json'), 'utf8')) as { version?: string }).version;
      h.update(`dep:${dep}@${v ?? '?'}\n`);
    }
  }
  const fp = h.digest('hex');
  memo.set(real, fp);
  return fp;
}

function codeFiles(dir: string): string[] {
  const dist = join(dir, 'dist');
  const built = existsSync(dist) ? walk(dist, (f) => f.endsWith('.js') && !f.endsWith('.test.js')) : [];
  if (built.length) return built;
  const src = join(dir, 'src');
  if (existsSync(src)) return walk(src, (f) => f.endsWith('.ts') && !f.endsWith('.test.ts') && !f.includes(`${sep}__tests__${sep}`));
  return walk(dir, (f) => /\.(c?js|ts)$/.test(f) && !f.includes(`${sep}node_modules${sep}`));
}

function walk(dir: string, keep: (f: string) => boolean): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.name === 'node_modules' || e.name.startsWith('.')) continue;
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...walk(p, keep));
    else if (keep(p)) out.push(p);
  }
  return out.sort();
}

/** Node's lookup: `<dir>/node_modules/<name>` in each ancestor of each start directory. */
export function findInstalled(name: string, starts: string[]): string | undefined {
  for (const start of starts) {
    let dir = start;
    for (;;) {
      const cand = join(dir, 'node_modules', name);
      if (existsSync(join(cand, 'package.json'))) return realpathSync(cand);
      const up = dirname(dir);
      if (up === dir) break;
      dir = up;
    }
  }
  return undefined;
}

function findPackageDir(start: string): string | undefined {
  let dir = start;
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    const up = dirname(dir);
    if (up === dir) return undefined;
    dir = up;
  }
}

function resolveModuleFile(p: string): string {
  for (const cand of [p, `${p}.js`, `${p}.ts`, join(p, 'index.js'), join(p, 'index.ts')]) {
    if (existsSync(cand) && statSync(cand).isFile()) return cand;
  }
  throw new Error(`cannot fingerprint stage module '${p}': file not found`);
}
