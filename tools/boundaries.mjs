// The logic of the package boundary check (tools/check-boundaries.mjs runs it on this
// repository; `--self-test` runs it on fixture package trees). For every package under
// <root>/packages/<name> listed in `ranks`:
//  - it imports another @lth package only through a public entry ('@lth/x' or a subpath the
//    package's exports declare, never '@lth/x/src/..' or a relative path into
//    ../other-package), and only one of a strictly lower rank (tools/packages.mjs);
//  - non-test source (src/**, except *.test.ts and __tests__/) imports only node builtins and
//    its declared run-time dependencies (dependencies, optionalDependencies,
//    peerDependencies); a dependency used only by tests belongs in devDependencies;
//  - test files may also import the package's devDependencies and the workspace root's;
//  - every declared run-time dependency is imported by some non-test source file, or is in
//    the allow-list with the reason it is declared anyway;
//  - no files of a package import each other in a circle (type-only imports count: a circle
//    means neither file can be read, moved or tested without the other).
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join, relative, resolve, sep } from 'node:path';

// Static imports (also multi-line and `export ... from`), side-effect imports, import(),
// require() and require.resolve() with a literal (a module resolved to be loaded elsewhere,
// e.g. in a worker process, is a dependency too). A computed require cannot be checked; the
// allow-list covers the modules this repository loads that way.
const IMPORT_RE =
  /(?:^|[\s;])(?:import|export)\s(?:type\s)?[^'"`;()]*?from\s*['"]([^'"]+)['"]|(?:^|[\s;])import\s*['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)|\brequire(?:\.resolve)?\(\s*['"]([^'"]+)['"]\s*\)/g;
const TYPE_ONLY_RE = /^\s*(?:import|export)\s+type\s/;
const BUILTINS = new Set(builtinModules);

export const isTestFile = (path) => /\.test\.[cm]?[jt]s$/.test(path) || path.split(sep).includes('__tests__');

/** The package a bare specifier names: '@scope/name/sub' -> '@scope/name', 'x/y' -> 'x'. */
export function packageOf(spec) {
  const parts = spec.split('/');
  return spec.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

const isBuiltin = (spec) => spec.startsWith('node:') || BUILTINS.has(packageOf(spec));

function* sourceFiles(dir) {
  if (!existsSync(dir)) return;
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) yield* sourceFiles(p);
    else if (/\.(ts|mts|cts|js|mjs|cjs)$/.test(name) && !name.endsWith('.d.ts')) yield p;
  }
}

/** Comments can quote imports (`// require('@lth/x')` in prose); blank them, keeping lines. */
function stripComments(text) {
  return text.replace(/\/\*[\s\S]*?\*\//g, (c) => c.replace(/[^\n]/g, ' ')).replace(/(^|[^:'"`])\/\/[^\n]*/g, '$1');
}

/** Every import in a file: { spec, line, typeOnly }. */
export function importsOf(text) {
  const clean = stripComments(text);
  const lineStarts = [0];
  for (let i = 0; i < clean.length; i++) if (clean[i] === '\n') lineStarts.push(i + 1);
  const lineOf = (index) => {
    let lo = 0;
    let hi = lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (lineStarts[mid] <= index) lo = mid;
      else hi = mid - 1;
    }
    return lo + 1;
  };
  const out = [];
  for (const m of clean.matchAll(IMPORT_RE)) {
    const spec = m[1] ?? m[2] ?? m[3] ?? m[4];
    const statement = m[0].replace(/^[\s;]/, '');
    out.push({ spec, line: lineOf(m.index + (m[0].length - m[0].trimStart().length)), typeOnly: m[1] !== undefined && TYPE_ONLY_RE.test(statement) });
  }
  return out;
}

const readJson = (path) => JSON.parse(readFileSync(path, 'utf8'));

/**
 * The problems in the workspace at `root`: one line each, naming the file and line (or the
 * package.json) and what to change. `allow` maps '<package>' -> { '<dependency>': 'reason' }
 * for declared dependencies no source file imports by a literal name; `allowCircles` maps
 * '<package>' -> { '<files of the circle, relative to the package, sorted, space-separated>':
 * 'reason' } for a circle that is known and tolerated until its owner breaks it.
 */
export function checkBoundaries(root, ranks, allow = {}, allowCircles = {}, onlyImports = {}) {
  const problems = [];
  const rootDev = new Set(Object.keys(readJson(join(root, 'package.json')).devDependencies ?? {}));
  for (const pkg of Object.keys(ranks)) {
    const pkgDir = join(root, 'packages', pkg);
    const manifestPath = relative(root, join(pkgDir, 'package.json'));
    const manifest = readJson(join(pkgDir, 'package.json'));
    const runtime = new Set([
      ...Object.keys(manifest.dependencies ?? {}),
      ...Object.keys(manifest.optionalDependencies ?? {}),
      ...Object.keys(manifest.peerDependencies ?? {}),
    ]);
    const dev = new Set(Object.keys(manifest.devDependencies ?? {}));
    const used = new Set();
    /** file -> [{ to, line }]: the package's relative imports, for the circle check. */
    const edges = new Map();
    for (const file of sourceFiles(join(pkgDir, 'src'))) {
      edges.set(file, []);
      const test = isTestFile(relative(pkgDir, file));
      for (const { spec, line, typeOnly } of importsOf(readFileSync(file, 'utf8'))) {
        const where = `${relative(root, file)}:${line}`;
        if (spec.startsWith('.')) {
          const target = resolve(file, '..', spec);
          if (!target.startsWith(pkgDir + sep)) problems.push(`${where}: relative import '${spec}' leaves package '${pkg}'`);
          else {
            const to = resolveSource(target);
            if (to) edges.get(file).push({ to, line });
          }
          continue;
        }
        if (isBuiltin(spec)) continue;
        const name = packageOf(spec);
        const lth = spec.match(/^@lth\/([^/]+)(\/.*)?$/);
        if (lth) {
          const [, other, sub] = lth;
          if (!(other in ranks)) {
            problems.push(`${where}: unknown package '@lth/${other}'`);
            continue;
          }
          // A subpath is public only when the package's exports declare it ('@lth/models/weights').
          if (sub && !(`.${sub}` in (readJson(join(root, 'packages', other, 'package.json')).exports ?? {}))) {
            problems.push(`${where}: '${spec}' reaches into @lth/${other}'s internals; import '@lth/${other}' or an entry point its package.json exports`);
          }
          if (other === pkg) {
            problems.push(`${where}: package imports itself by name; use a relative import`);
            continue;
          }
          if (ranks[other] >= ranks[pkg]) {
            problems.push(`${where}: @lth/${pkg} (rank ${ranks[pkg]}) may not import @lth/${other} (rank ${ranks[other]}): dependencies point down only`);
            continue;
          }
          // A rank says what a package may import at most; `onlyImports` narrows it (the engine
          // knows no stage package, though they rank below it). Tests may use more.
          if (!test && onlyImports[pkg] && !onlyImports[pkg].includes(other)) {
            const may = onlyImports[pkg].map((o) => `@lth/${o}`).join(', ') || 'no @lth package';
            problems.push(`${where}: @lth/${pkg} may import only ${may} (tools/packages.mjs ONLY_IMPORTS), not @lth/${other}`);
            continue;
          }
        }
        if (!test) {
          // A type-only import is erased at run time; a devDependency (e.g. @types/x) may serve it.
          if (runtime.has(name)) used.add(name);
          else if (!(typeOnly && (dev.has(name) || dev.has(`@types/${name}`) || rootDev.has(name)))) {
            const hint = dev.has(name) ? ' (it is a devDependency: move it to dependencies)' : '';
            problems.push(`${where}: imports '${name}' but ${manifestPath} does not declare it in dependencies${hint}`);
          }
        } else if (!runtime.has(name) && !dev.has(name) && !rootDev.has(name)) {
          problems.push(
            `${where}: test imports '${name}', declared neither by ${manifestPath} (dependencies or devDependencies) nor by the root package.json's devDependencies`,
          );
        }
      }
    }
    const allowedCircles = new Set(Object.keys(allowCircles[pkg] ?? {}));
    for (const { members, circle } of importCircles(edges)) {
      const key = members.map((f) => relative(pkgDir, f).split(sep).join('/')).join(' ');
      if (allowedCircles.delete(key)) continue;
      const hops = circle.map(({ file, line }) => `${relative(root, file)}:${line}`);
      problems.push(`import circle in @lth/${pkg}: ${hops.join(' -> ')} -> ${relative(root, circle[0].file)} (move what both need into a third file)`);
    }
    for (const key of allowedCircles)
      problems.push(`tools/check-boundaries.mjs: allow-lists the import circle '${key}' in @lth/${pkg}, which is gone (remove the stale entry)`);
    for (const dep of Object.keys(allow[pkg] ?? {})) {
      if (!runtime.has(dep))
        problems.push(`tools/check-boundaries.mjs: allow-lists '${dep}' for @lth/${pkg}, which does not declare it (remove the stale entry)`);
    }
    for (const dep of runtime) {
      if (used.has(dep)) continue;
      if (allow[pkg]?.[dep]) continue;
      problems.push(
        `${manifestPath}: declares '${dep}' but no non-test source file imports it (move it to devDependencies if tests need it, remove it otherwise, or allow-list it with a reason in tools/check-boundaries.mjs)`,
      );
    }
  }
  return problems;
}

const SOURCE_EXTENSIONS = ['.ts', '.mts', '.cts', '.js', '.mjs', '.cjs'];

/** The source file a relative import names: as written, with an extension, as a folder's index, or x.js compiled from x.ts. */
function resolveSource(target) {
  const candidates = [
    target,
    ...SOURCE_EXTENSIONS.map((ext) => target + ext),
    ...SOURCE_EXTENSIONS.map((ext) => join(target, `index${ext}`)),
    ...(/\.[cm]?js$/.test(target) ? [target.replace(/js$/, 'ts')] : []),
  ];
  return candidates.find((c) => existsSync(c) && statSync(c).isFile());
}

/**
 * The import circles of a graph (file -> [{ to, line }]): one per strongly connected component
 * (Tarjan) of more than one file, or a file importing itself: { members, circle }, the
 * component's files sorted and its shortest circle through the first of them, as
 * [{ file, line }] where `line` is the line of `file` that imports the next file of the circle.
 */
export function importCircles(edges) {
  const index = new Map();
  const low = new Map();
  const stack = [];
  const onStack = new Set();
  const components = [];
  let next = 0;
  const visit = (v) => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const { to } of edges.get(v) ?? []) {
      if (!index.has(to)) {
        visit(to);
        low.set(v, Math.min(low.get(v), low.get(to)));
      } else if (onStack.has(to)) low.set(v, Math.min(low.get(v), index.get(to)));
    }
    if (low.get(v) !== index.get(v)) return;
    const component = [];
    let w;
    do {
      w = stack.pop();
      onStack.delete(w);
      component.push(w);
    } while (w !== v);
    components.push(component);
  };
  for (const v of [...edges.keys()].sort()) if (!index.has(v)) visit(v);
  const circles = [];
  for (const component of components) {
    const members = new Set(component);
    const start = [...component].sort()[0];
    const selfLoop = (edges.get(start) ?? []).find((e) => e.to === start);
    if (component.length === 1 && !selfLoop) continue;
    // Breadth-first from start, inside the component, back to start: the shortest circle.
    const via = new Map(); // file -> { from, line }
    const queue = [start];
    let last;
    search: while (queue.length) {
      const v = queue.shift();
      for (const { to, line } of edges.get(v) ?? []) {
        if (!members.has(to)) continue;
        if (to === start) {
          last = { from: v, line };
          break search;
        }
        if (!via.has(to)) {
          via.set(to, { from: v, line });
          queue.push(to);
        }
      }
    }
    const circle = [{ file: last.from, line: last.line }];
    for (let f = last.from; f !== start;) {
      const { from, line } = via.get(f);
      circle.unshift({ file: from, line });
      f = from;
    }
    circles.push({ members: [...component].sort(), circle });
  }
  return circles;
}
