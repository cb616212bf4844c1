import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';

/**
 * Code fingerprints: a stage's cache key changes whenever the code that could change its
 * output changes, without anyone bumping a version, and only then.
 *
 * fingerprint(package) = sha256 over
 *   - its package.json;
 *   - the code that runs: the JS files reachable from its entry points (`main`, `exports`, else
 *     dist/index.js or index.js) by relative `require("./…")` (what tsc emits), so build
 *     leftovers (files whose source was deleted or moved) do not count; without a build, its
 *     TypeScript sources (reachable from src/index.ts, else all of src minus tests);
 *   - the fingerprint of each `@lth/*` dependency (transitively);
 *   - `name@version` of each third-party dependency, as installed (node_modules package.json).
 * fingerprint(module file that is not its package's entry, e.g. a plugin `./my-stages.js`) =
 *   sha256 over the files it reaches by relative requires, and the fingerprint or version of
 *   each package those files require by name.
 * Computed once per package or file per process.
 */
const memo = new Map<string, string>();

export function clearFingerprintCache(): void {
  memo.clear();
}

const isPath = (spec: string): boolean => spec.startsWith('.') || isAbsolute(spec) || /^[A-Za-z]:/.test(spec);

/**
 * Fingerprint of the code a registry entry names: a module file (what the registry loaded),
 * a package directory, or an npm package name (looked up from `from`).
 */
export function codeFingerprint(pkg: string, from: string = process.cwd()): string {
  const key = `${pkg}\0${from}`;
  const hit = memo.get(key);
  if (hit) return hit;
  let fp: string;
  if (isPath(pkg)) {
    const p = resolve(from, pkg);
    if (existsSync(join(p, 'package.json'))) fp = packageFingerprint(p, []);
    else {
      const file = resolveModuleFile(p);
      const dir = findPackageDir(dirname(file));
      fp = dir && entryPoints(dir).includes(realpathSync(file)) ? packageFingerprint(dir, []) : moduleFingerprint(file);
    }
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
  const manifest = readFileSync(join(real, 'package.json'));
  const pj = JSON.parse(manifest.toString('utf8')) as { dependencies?: Record<string, string> };
  const h = createHash('sha256');
  h.update('package.json\n').update(manifest).update('\n');
  for (const file of codeFiles(real)) {
    h.update(`file:${relative(real, file).split(sep).join('/')}\n`);
    h.update(readFileSync(file));
    h.update('\n');
  }
  for (const dep of Object.keys(pj.dependencies ?? {}).sort()) h.update(`dep:${dep}:${dependencyIdentity(dep, real, [...chain, real])}\n`);
  const fp = h.digest('hex');
  memo.set(real, fp);
  return fp;
}

/** A loose module file: its relative-require closure plus what it requires by name. */
function moduleFingerprint(file: string): string {
  const real = realpathSync(file);
  const hit = memo.get(real);
  if (hit) return hit;
  const files = closure([real]);
  const base = dirname(real);
  const h = createHash('sha256');
  const named = new Set<string>();
  for (const f of files) {
    h.update(`file:${relative(base, f).split(sep).join('/')}\n`);
    const text = readFileSync(f);
    h.update(text).update('\n');
    for (const spec of requiredSpecs(text.toString('utf8'))) if (!isPath(spec) && !spec.startsWith('node:')) named.add(packageName(spec));
  }
  for (const dep of [...named].sort()) h.update(`dep:${dep}:${dependencyIdentity(dep, base, [])}\n`);
  const fp = h.digest('hex');
  memo.set(real, fp);
  return fp;
}

/** `@lth/*` packages by their fingerprint, others by their installed version. */
function dependencyIdentity(dep: string, from: string, chain: string[]): string {
  const depDir = findInstalled(dep, [from]);
  if (!depDir) return 'missing';
  if (dep.startsWith('@lth/')) return packageFingerprint(depDir, chain);
  try {
    return `${(JSON.parse(readFileSync(join(depDir, 'package.json'), 'utf8')) as { version?: string }).version ?? '?'}`;
  } catch {
    return '?';
  }
}

/** The files whose code runs when the package is loaded (see the module comment). */
function codeFiles(dir: string): string[] {
  const built = entryPoints(dir).filter((f) => /\.[cm]?js$/.test(f));
  if (built.length) return closure(built);
  const srcIndex = join(dir, 'src', 'index.ts');
  if (existsSync(srcIndex)) return closure([realpathSync(srcIndex)]);
  const src = join(dir, 'src');
  if (existsSync(src)) return walk(src, (f) => f.endsWith('.ts') && !f.endsWith('.test.ts') && !f.includes(`${sep}__tests__${sep}`));
  return walk(dir, (f) => /\.(c?js|ts)$/.test(f) && !f.includes(`${sep}node_modules${sep}`));
}

/** Existing entry files of a package: `main` and every `exports` target, else dist/index.js or index.js. */
export function entryPoints(dir: string): string[] {
  let pj: { main?: unknown; exports?: unknown };
  try {
    pj = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as typeof pj;
  } catch {
    return [];
  }
  const targets: string[] = [];
  const collect = (v: unknown): void => {
    if (typeof v === 'string') targets.push(v);
    else if (v && typeof v === 'object') for (const x of Object.values(v)) collect(x);
  };
  collect(pj.main);
  collect(pj.exports);
  if (targets.length === 0) targets.push('dist/index.js', 'index.js');
  const out = new Set<string>();
  for (const t of targets) {
    if (t.endsWith('.d.ts')) continue;
    const f = join(dir, t);
    if (existsSync(f) && statSync(f).isFile()) out.add(realpathSync(f));
  }
  return [...out].sort();
}

/** Every file reachable from `roots` by relative requires/imports, sorted. */
function closure(roots: string[]): string[] {
  const seen = new Set<string>();
  const todo = [...roots];
  while (todo.length) {
    const f = todo.pop() as string;
    if (seen.has(f)) continue;
    seen.add(f);
    if (!/\.([cm]?[jt]s)$/.test(f)) continue;
    for (const spec of requiredSpecs(readFileSync(f, 'utf8'))) {
      if (!spec.startsWith('.')) continue;
      const target = resolveRelative(join(dirname(f), spec));
      if (target) todo.push(target);
    }
  }
  return [...seen].sort();
}

// require("x"), import "x", import … from "x", export … from "x", import("x"): literal specifiers.
const SPEC_RE =
  /\brequire\(\s*(['"])([^'"]+)\1\s*\)|\bimport\s*\(\s*(['"])([^'"]+)\3\s*\)|\b(?:import|export)\s[^'";]*?\bfrom\s*(['"])([^'"]+)\5|\bimport\s*(['"])([^'"]+)\7/g;

function requiredSpecs(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(SPEC_RE)) out.push((m[2] ?? m[4] ?? m[6] ?? m[8]) as string);
  return out;
}

function resolveRelative(p: string): string | undefined {
  for (const cand of [p, `${p}.js`, `${p}.cjs`, `${p}.mjs`, `${p}.ts`, `${p}.json`, join(p, 'index.js'), join(p, 'index.ts')]) {
    if (existsSync(cand) && statSync(cand).isFile()) return realpathSync(cand);
  }
  return undefined;
}

function packageName(spec: string): string {
  const parts = spec.split('/');
  return spec.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] as string);
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

/** The nearest directory with a package.json, from `start` up. */
export function findPackageDir(start: string): string | undefined {
  let dir = start;
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    const up = dirname(dir);
    if (up === dir) return undefined;
    dir = up;
  }
}

function resolveModuleFile(p: string): string {
  const f = resolveRelative(p);
  if (!f) throw new Error(`cannot fingerprint stage module '${p}': file not found`);
  return f;
}
