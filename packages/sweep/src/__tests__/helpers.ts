import { mkdtempSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadRegistry, type Registry } from '@lth/pipeline';

/**
 * The engine's test-only stages (test/work, test/collect, test/curve, ...), loaded by path as
 * any stage module is (the CLI's tests do the same): trials are ordinary pipeline runs.
 */
export const FIXTURES = join(__dirname, '..', '..', '..', 'pipeline', 'src', '__tests__', 'fixtures', 'stages.ts');

export function testRegistry(): Registry {
  const r = loadRegistry({ builtin: false, modules: [FIXTURES] });
  if (r.problems().length) throw new Error(`test stages: ${r.problems().join('; ')}`);
  return r;
}

/** One call of a test stage, as the fixtures log it to LTH_TEST_LOG. */
export interface LoggedCall {
  tag: string;
  pid: number;
}

/** A temp dir with calls.log in it, which LTH_TEST_LOG now names (in-process stages log there). */
export function loggingDir(prefix = 'lth-sweep-'): { dir: string; log: string; calls: () => LoggedCall[] } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const log = join(dir, 'calls.log');
  process.env['LTH_TEST_LOG'] = log;
  const calls = () =>
    existsSync(log)
      ? readFileSync(log, 'utf8')
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l) as LoggedCall)
      : [];
  return { dir, log, calls };
}

export function writePipeline(dir: string, text: string, name = 'p.yaml'): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

/** Environment for worker processes that run the fixtures from sources. */
export function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { ...process.env, LTH_STAGE_MODULES: FIXTURES, LTH_BUILTIN_STAGES: '0', LTH_BACKEND: 'cpu', ...extra };
}
