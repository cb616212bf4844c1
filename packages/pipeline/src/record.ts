import { mkdirSync, readFileSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { findInstalled } from './fingerprint';
import type { InputBinding } from './refs';

export type StageStatus = 'ran' | 'cached' | 'failed' | 'skipped';

export interface StageRecord {
  id: string;
  uses: string;
  status: StageStatus;
  durationMs: number;
  cacheKey: string | null;
  /** Why it ran (cache miss reason), why it was skipped, or 'cache hit'. */
  why: string;
  error?: string;
  inputs: Record<string, InputBinding | InputBinding[]>;
  /** Output port → absolute artifact path. */
  outputs: Record<string, string>;
  /** Directory of extra files the stage wrote (e.g. an HTML report). */
  files?: string;
  backend?: string;
}

export interface RunRecord {
  version: 1;
  name: string;
  file: string;
  status: 'ok' | 'failed' | 'interrupted';
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  cacheDir: string;
  /** The tfjs backend the stages ran on (of the cached entries when nothing ran). */
  backend: string;
  versions: Record<string, string>;
  params: Record<string, unknown>;
  /** The expanded pipeline: every stage with its parsed config and bindings. */
  pipeline: Array<{ id: string; uses: string; config: unknown; inputs: Record<string, InputBinding | InputBinding[]> }>;
  stages: StageRecord[];
  /** Where the outputs are: the report stages' files, else the last stage's outputs. */
  report?: string;
  recordFile?: string;
}

export function runsDir(cacheDir: string): string {
  return join(cacheDir, 'runs');
}

export function writeRunRecord(cacheDir: string, rec: RunRecord): string {
  const dir = runsDir(cacheDir);
  mkdirSync(dir, { recursive: true });
  const stamp = rec.startedAt.replace(/[:.]/g, '-');
  let file = join(dir, `${stamp}-${rec.name}.json`);
  for (let i = 1; existsSync(file); i++) file = join(dir, `${stamp}-${rec.name}-${i}.json`);
  rec.recordFile = file;
  writeFileSync(file, `${JSON.stringify(rec, null, 2)}\n`);
  return file;
}

/** Run records, newest first. */
export function listRunRecords(cacheDir: string): Array<{ file: string; record: RunRecord }> {
  const dir = runsDir(cacheDir);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .reverse()
    .flatMap((f) => {
      try {
        return [{ file: join(dir, f), record: JSON.parse(readFileSync(join(dir, f), 'utf8')) as RunRecord }];
      } catch {
        return [];
      }
    });
}

/** Versions of the workspace packages and of Node, for the run record. */
export function packageVersions(): Record<string, string> {
  const out: Record<string, string> = { node: process.version };
  for (const name of ['artifacts', 'compute', 'data', 'models', 'trainer', 'pruner', 'rewinder', 'report', 'analysis', 'pipeline']) {
    try {
      const pj = JSON.parse(readFileSync(join(__dirname, '..', '..', name, 'package.json'), 'utf8')) as { version?: string };
      out[`@lth/${name}`] = pj.version ?? '?';
    } catch {
      /* not in this checkout */
    }
  }
  for (const dep of ['@tensorflow/tfjs-core', '@tensorflow/tfjs-backend-wasm', '@tensorflow/tfjs-node', 'apache-arrow', 'zod', 'yaml']) {
    const dir = findInstalled(dep, [__dirname]);
    if (!dir) continue;
    try {
      out[dep] = (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version?: string }).version ?? '?';
    } catch {
      /* unreadable package.json: leave it out */
    }
  }
  return out;
}
