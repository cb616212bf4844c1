import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import { RunRecord } from '@lth/artifacts';
import { findInstalled, findPackageDir } from './fingerprint';
import { createFileExclusive, fsErrorText } from './fs-safe';
import { isRunRecordName, runRecordFile, runsDir } from './layout';

const MAX_RECORD_BYTES = 64 << 20;

/**
 * Writes the record under runs/ whole or not at all (temporary file linked into
 * place, never replacing another record). Throws with a plain reason (no space, read-only...).
 */
export function writeRunRecord(cacheDir: string, rec: RunRecord): string {
  const dir = runsDir(cacheDir);
  const stamp = rec.startedAt.replace(/[:.]/g, '-');
  const safeName = rec.name.replace(/[^A-Za-z0-9_.=+-]/g, '_').slice(0, 100);
  try {
    mkdirSync(dir, { recursive: true });
    for (let i = 0; ; i++) {
      const file = runRecordFile(cacheDir, stamp, safeName, i);
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
    .filter(isRunRecordName)
    .sort()
    .reverse()
    .flatMap((f) => {
      const r = readRunRecord(join(dir, f));
      if ('record' in r) return [{ file: join(dir, f), record: r.record }];
      warn(`skipping run record ${join(dir, f)}: ${r.problem}`);
      return [];
    });
}

/** Tools whose version can change numbers, wherever a stage package installed them. */
const TOOLS = ['@tensorflow/tfjs-core', '@tensorflow/tfjs-backend-wasm', '@tensorflow/tfjs-node', 'apache-arrow', 'zod', 'yaml'];

/**
 * Versions for the run record: Node, this engine, the packages the stages came from (`codes`:
 * module files, package directories or names) with their @lth dependencies, and TOOLS.
 */
export function packageVersions(codes: readonly string[] = []): Record<string, string> {
  const out: Record<string, string> = { node: process.version };
  const dirs: string[] = [];
  const note = (dir: string | undefined) => {
    const pj = dir ? readManifest(dir) : undefined;
    if (!dir || !pj?.name || out[pj.name]) return pj;
    out[pj.name] = pj.version ?? '?';
    dirs.push(dir);
    return pj;
  };
  note(findPackageDir(__dirname));
  for (const code of new Set(codes)) {
    const dir =
      code.startsWith('.') || isAbsolute(code)
        ? findPackageDir(existsSync(code) && statSync(code).isDirectory() ? code : dirname(code))
        : findInstalled(code, [process.cwd(), __dirname]);
    const pj = note(dir);
    for (const dep of Object.keys(pj?.dependencies ?? {})) if (dep.startsWith('@lth/')) note(findInstalled(dep, [dir as string]));
  }
  for (const tool of TOOLS) {
    const pj = readManifest(findInstalled(tool, [...dirs, __dirname]));
    if (pj) out[tool] = pj.version ?? '?';
  }
  return out;
}

function readManifest(dir: string | undefined): { name?: string; version?: string; dependencies?: Record<string, string> } | undefined {
  if (!dir) return undefined;
  try {
    return JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string; dependencies?: Record<string, string> };
  } catch {
    return undefined; // unreadable package.json: leave it out
  }
}
