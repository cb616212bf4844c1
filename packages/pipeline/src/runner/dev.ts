import { join } from 'node:path';

/**
 * How to start a Node process that runs this package's code: from dist, plain `node`;
 * from sources (tests), with the SWC loader and the `@lth/source` export condition so
 * that `@lth/*` imports resolve to `src/index.ts`.
 */
export function nodeArgsForSources(): string[] {
  if (!__filename.endsWith('.ts')) return [];
  return ['--conditions=@lth/source', '-r', join(__dirname, '..', '..', 'ts-register.cjs')];
}

/** This package's module file `name` (`worker` → dist/worker.js or src/worker.ts). */
export function ownModule(name: string): string {
  return join(__dirname, `${name}${__filename.endsWith('.ts') ? '.ts' : '.js'}`);
}
