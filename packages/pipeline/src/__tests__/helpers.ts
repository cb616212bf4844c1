import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadRegistry, Registry } from '../definition/registry';
import * as fixtures from './fixtures/stages';

export const FIXTURES = join(__dirname, 'fixtures', 'stages.ts');

/**
 * The workspace's stage packages, for tests of real pipelines (the `lth` CLI has its own list
 * of built-in stage modules; the engine has none).
 */
export const STAGE_PACKAGES = ['@lth/data', '@lth/models', '@lth/trainer', '@lth/pruner', '@lth/rewinder', '@lth/report', '@lth/analysis'];

export function stagePackagesRegistry(): Registry {
  const r = loadRegistry({ modules: STAGE_PACKAGES });
  if (r.problems().length) throw new Error(r.problems().join('\n'));
  return r;
}

export function testRegistry(): Registry {
  const r = new Registry();
  r.addModule(FIXTURES, fixtures);
  return r;
}

export function tempDir(prefix = 'lth-pipeline-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** One call of a test stage, as fixtures/stages.ts logs it to LTH_TEST_LOG. */
export interface LoggedCall {
  tag: string;
  pid: number;
}

/** The calls logged so far, in order (none before the log exists). */
export function readCalls(log: string): LoggedCall[] {
  return existsSync(log)
    ? readFileSync(log, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as LoggedCall)
    : [];
}

/** A temp dir with calls.log in it, which LTH_TEST_LOG now names (in-process stages log there). */
export function loggingDir(prefix?: string): { dir: string; log: string; calls: () => LoggedCall[] } {
  const dir = tempDir(prefix);
  const log = join(dir, 'calls.log');
  process.env['LTH_TEST_LOG'] = log;
  return { dir, log, calls: () => readCalls(log) };
}

export function writePipeline(dir: string, text: string, name = 'p.yaml'): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

/** Environment for child processes that run the fixtures (the coordinator names their module). */
export function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { ...process.env, LTH_BACKEND: 'cpu', ...extra };
}
