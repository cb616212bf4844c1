import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { findInstalled } from './fingerprint';
import { createFileExclusive, fsErrorText } from './fs-safe';

const Binding = z.object({ stage: z.string(), port: z.string() });
const Bindings = z.record(z.string(), z.union([Binding, z.array(Binding)]));

export const StageStatus = z.enum(['ran', 'cached', 'failed', 'skipped']);
export type StageStatus = z.output<typeof StageStatus>;

export const StageRecord = z.object({
  id: z.string(),
  uses: z.string(),
  status: StageStatus,
  durationMs: z.number(),
  /** How long computing its entry took (when it ran, or earlier for a cache hit). */
  computeMs: z.number().optional(),
  cacheKey: z.string().nullable(),
  /** Why it ran (cache miss reason), why it was skipped, or 'cache hit'. */
  why: z.string(),
  error: z.string().optional(),
  inputs: Bindings,
  /** Output port → absolute artifact path. */
  outputs: z.record(z.string(), z.string()),
  /** Directory of extra files the stage wrote (e.g. an HTML report). */
  files: z.string().optional(),
  backend: z.string().optional(),
});
export type StageRecord = z.output<typeof StageRecord>;

/** A run record as read back: validated, so commands never trip over `{}` or a truncated file. */
export const RunRecord = z.object({
  version: z.literal(1),
  name: z.string(),
  file: z.string(),
  status: z.enum(['ok', 'failed', 'interrupted']),
  startedAt: z.string(),
  finishedAt: z.string(),
  durationMs: z.number(),
  cacheDir: z.string(),
  /** The tfjs backend the stages ran on (of the cached entries when nothing ran). */
  backend: z.string(),
  versions: z.record(z.string(), z.string()),
  params: z.record(z.string(), z.unknown()),
  /** The expanded pipeline: every stage with its parsed config and bindings. */
  pipeline: z.array(z.object({ id: z.string(), uses: z.string(), config: z.unknown(), inputs: Bindings })),
  stages: z.array(StageRecord),
  /** Where the outputs are: the report stages' files, else the last stage's outputs. */
  report: z.string().optional(),
  recordFile: z.string().optional(),
  /** Set (never written) when the record could not be written: why. */
  recordError: z.string().optional(),
});
export type RunRecord = z.output<typeof RunRecord>;

const MAX_RECORD_BYTES = 64 << 20;

export function runsDir(cacheDir: string): string {
  return join(cacheDir, 'runs');
}

/**
 * Writes the record under `<cacheDir>/runs/` whole or not at all (temporary file linked into
 * place, never replacing another record). Throws with a plain reason (no space, read-only...).
 */
export function writeRunRecord(cacheDir: string, rec: RunRecord): string {
  const dir = runsDir(cacheDir);
  const stamp = rec.startedAt.replace(/[:.]/g, '-');
  const safeName = rec.name.replace(/[^A-Za-z0-9_.=+-]/g, '_').slice(0, 100);
  try {
    mkdirSync(dir, { recursive: true });
    for (let i = 0; ; i++) {
      const file = join(dir, `${stamp}-${safeName}${i ? `-${i}` : ''}.json`);
      const { recordError: _none, ...body } = { ...rec, recordFile: file };
      try {
        createFileExclusive(file, `${JSON.stringify(body, null, 2)}\n`);
        rec.recordFile = file;
        return file;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || i > 1000) throw err;
      }
    }
  } catch (err) {
    throw new Error(`could not write the run record in ${dir}: ${fsErrorText(err)}`, { cause: err });
  }
}

/** Why `file` is not a valid run record, or the record. */
export function readRunRecord(file: string): { record: RunRecord } | { problem: string } {
  let json: unknown;
  try {
    if (statSync(file).size > MAX_RECORD_BYTES) return { problem: `larger than ${MAX_RECORD_BYTES} bytes` };
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    return { problem: err instanceof SyntaxError ? 'not valid JSON' : fsErrorText(err) };
  }
  const r = RunRecord.safeParse(json);
  if (r.success) return { record: r.data };
  const i = r.error.issues[0];
  return { problem: `not a run record: ${i?.path.join('.') || '(root)'}: ${i?.message ?? 'invalid'}` };
}

/** Run records, newest first; invalid ones are skipped, each reported through `warn` with its file. */
export function listRunRecords(cacheDir: string, warn: (message: string) => void = () => {}): Array<{ file: string; record: RunRecord }> {
  const dir = runsDir(cacheDir);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .reverse()
    .flatMap((f) => {
      const r = readRunRecord(join(dir, f));
      if ('record' in r) return [{ file: join(dir, f), record: r.record }];
      warn(`skipping run record ${join(dir, f)}: ${r.problem}`);
      return [];
    });
}

/** Versions of the workspace packages and of Node, for the run record. */
export function packageVersions(): Record<string, string> {
  const out: Record<string, string> = { node: process.version };
  for (const name of ['artifacts', 'compute', 'data', 'models', 'trainer', 'pruner', 'rewinder', 'report', 'analysis', 'pipeline']) {
    try {
      const pj = JSON.parse(readFileSync(join(__dirname, '..', '..', '..', name, 'package.json'), 'utf8')) as { version?: string };
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
