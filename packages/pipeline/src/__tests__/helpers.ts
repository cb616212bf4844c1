import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from '../registry';
import * as fixtures from './fixtures/stages';

export const FIXTURES = join(__dirname, 'fixtures', 'stages.ts');

export function testRegistry(): Registry {
  const r = new Registry();
  r.addModule(FIXTURES, fixtures);
  return r;
}

export function tempDir(prefix = 'lth-pipeline-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function writePipeline(dir: string, text: string, name = 'p.yaml'): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

/** Environment for child processes that run the fixtures from sources. */
export function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { ...process.env, LTH_STAGE_MODULES: FIXTURES, LTH_BUILTIN_STAGES: '0', LTH_BACKEND: 'cpu', ...extra };
}
