#!/usr/bin/env node
// Package boundary check (run by `npm test` and `npm run lint`):
//  - a package imports another only through its public entry ('@lth/x', never '@lth/x/src/..'
//    or a relative path into ../other-package);
//  - a package imports only packages of a strictly lower rank (tools/packages.mjs), and
//    declares each one it imports in its package.json dependencies.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { RANKS } from './packages.mjs';

const root = resolve(new URL('..', import.meta.url).pathname);
const problems = [];
const importRe = /(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|require\(\s*['"]([^'"]+)['"]\s*\)/g;

function* files(dir) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) yield* files(p);
    else if (/\.(ts|mts|cts|js|mjs)$/.test(name)) yield p;
  }
}

for (const pkg of Object.keys(RANKS)) {
  const pkgDir = join(root, 'packages', pkg);
  const manifest = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8'));
  const declared = new Set([...Object.keys(manifest.dependencies ?? {}), ...Object.keys(manifest.devDependencies ?? {})]);
  for (const file of files(join(pkgDir, 'src'))) {
    const text = readFileSync(file, 'utf8');
    const lines = text.split('\n');
    lines.forEach((line, i) => {
      for (const m of line.matchAll(importRe)) {
        const spec = m[1] ?? m[2] ?? m[3];
        const where = `${relative(root, file)}:${i + 1}`;
        if (spec.startsWith('.')) {
          const target = resolve(file, '..', spec);
          if (!target.startsWith(pkgDir + sep)) problems.push(`${where}: relative import '${spec}' leaves package '${pkg}'`);
          continue;
        }
        const lth = spec.match(/^@lth\/([^/]+)(\/.*)?$/);
        if (!lth) continue;
        const [, other, sub] = lth;
        if (sub) problems.push(`${where}: '${spec}' reaches into @lth/${other}'s internals; import '@lth/${other}'`);
        if (!(other in RANKS)) problems.push(`${where}: unknown package '@lth/${other}'`);
        else if (other !== pkg && RANKS[other] >= RANKS[pkg]) {
          problems.push(`${where}: @lth/${pkg} (rank ${RANKS[pkg]}) may not import @lth/${other} (rank ${RANKS[other]}): dependencies point down only`);
        } else if (other === pkg) problems.push(`${where}: package imports itself by name; use a relative import`);
        else if (!declared.has(`@lth/${other}`)) problems.push(`${where}: imports @lth/${other} but packages/${pkg}/package.json does not declare it`);
      }
    });
  }
}

if (problems.length > 0) {
  console.error(`Package boundary check failed (${problems.length}):\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
console.log(`Package boundaries ok (${Object.keys(RANKS).length} packages).`);
