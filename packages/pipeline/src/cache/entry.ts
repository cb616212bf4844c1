import { lstatSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { ARTIFACT_KINDS, confinedPath, hashFile, type ArtifactKind } from '@lth/artifacts';
import { LIMITS } from '../definition/limits';
import { ENTRY_META, entryMetaFile, FILES_DIR } from './layout';

/**
 * An entry's manifest (ENTRY_META), validated on every read: an entry whose manifest does not parse, does not
 * match this schema, names a file outside its directory, or whose files differ from the list
 * (by sha256, size, or an extra/missing file) is corrupt, never trusted and never a crash.
 */
export const ENTRY_VERSION = 2;
const MAX_ENTRY_JSON_BYTES = LIMITS.entryJsonBytes;

const Sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'a sha256 in lower-case hex');
/** A path relative to the entry directory: checked with confinedPath before any use. */
const RelPath = z.string().min(1).max(1000);

export const EntryFile = z.strictObject({ path: RelPath, sha256: Sha256, size: z.number().int().nonnegative() });
export type EntryFile = z.output<typeof EntryFile>;

export const EntryOutput = z.strictObject({
  file: RelPath,
  kind: z.enum(ARTIFACT_KINDS as unknown as [ArtifactKind, ...ArtifactKind[]]),
  sha256: Sha256,
  size: z.number().int().nonnegative(),
});
export type EntryOutput = z.output<typeof EntryOutput>;

const KeyPartsSchema = z.strictObject({
  stage: z.string(),
  code: z.string(),
  config: z.string(),
  inputs: z.record(z.string(), z.union([z.string(), z.array(z.string())])),
});

export const EntryMeta = z.strictObject({
  version: z.literal(ENTRY_VERSION),
  key: Sha256,
  parts: KeyPartsSchema,
  /** Registered stage id. */
  stage: z.string(),
  /** Pipeline name and expanded stage id that produced it (for `lth status` comparisons). */
  pipeline: z.string(),
  path: z.string(),
  config: z.unknown(),
  inputs: z.record(z.string(), z.unknown()),
  outputs: z.record(z.string(), EntryOutput),
  /** Directory (relative to the entry) of the extra files the stage wrote, e.g. a report. */
  filesDir: z.literal(FILES_DIR).optional(),
  /** Every file of the entry but the manifest, outputs included: the entry's content. */
  contents: z.array(EntryFile),
  /** Wall-clock facts, kept here and not in any artifact so that outputs stay reproducible. */
  timings: z.strictObject({ startedAt: z.string(), finishedAt: z.string(), durationMs: z.number().nonnegative() }),
  backend: z.string(),
});
export type EntryMeta = z.output<typeof EntryMeta>;

/** The parsed manifest of the entry `dir`, or what is wrong with it. */
export function readEntryMeta(dir: string): { meta: EntryMeta } | { problem: string } {
  let text: string;
  try {
    const st = lstatSync(entryMetaFile(dir));
    if (!st.isFile()) return { problem: `${ENTRY_META} is not a regular file` };
    if (st.size > MAX_ENTRY_JSON_BYTES) return { problem: `${ENTRY_META} is ${st.size} bytes (limit ${MAX_ENTRY_JSON_BYTES})` };
    text = readFileSync(entryMetaFile(dir), 'utf8');
  } catch (err) {
    return { problem: `${ENTRY_META} unreadable (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})` };
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { problem: `${ENTRY_META} is not valid JSON` };
  }
  const r = EntryMeta.safeParse(json);
  if (!r.success) {
    const i = r.error.issues[0];
    return { problem: `${ENTRY_META} invalid at ${i?.path.join('.') || '(root)'}: ${i?.message ?? 'does not match the schema'}` };
  }
  return { meta: r.data };
}

/** Every regular file under `dir` as a relative path ('/' separated); anything else is a problem. */
export function walkFiles(dir: string, rel = ''): { files: string[] } | { problem: string } {
  const files: string[] = [];
  for (const e of readdirSync(join(dir, rel), { withFileTypes: true })) {
    const p = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) {
      const sub = walkFiles(dir, p);
      if ('problem' in sub) return sub;
      files.push(...sub.files);
    } else if (e.isFile()) files.push(p);
    else return { problem: `'${p}' is not a regular file or directory (symbolic link?)` };
  }
  return { files };
}

/**
 * Undefined when the files under `dir` are exactly meta.contents (plus the manifest), each
 * confined to `dir`, a regular file, with its recorded size and sha256, and every output is
 * one of them; else what is wrong. Sizes and hashes are checked on the copy in `contentDir`
 * (a pinned copy of the entry) when given.
 */
export async function checkEntryFiles(dir: string, key: string, meta: EntryMeta, contentDir = dir): Promise<string | undefined> {
  if (meta.key !== key) return `${ENTRY_META} is for key ${meta.key.slice(0, 12)}, not ${key.slice(0, 12)}`;
  const listed = new Map<string, EntryFile>();
  for (const f of meta.contents) {
    try {
      confinedPath(dir, f.path, `cache entry ${key.slice(0, 12)} file`);
    } catch (err) {
      return (err as Error).message;
    }
    if (f.path === ENTRY_META || listed.has(f.path)) return `file '${f.path}' listed twice or reserved`;
    listed.set(f.path, f);
  }
  for (const [port, out] of Object.entries(meta.outputs)) {
    const f = listed.get(out.file);
    if (!f || f.sha256 !== out.sha256 || f.size !== out.size) return `output '${port}' (${out.file}) is not among the entry's listed files`;
  }
  let onDisk: string[];
  try {
    const w = walkFiles(dir);
    if ('problem' in w) return w.problem;
    onDisk = w.files.filter((f) => f !== ENTRY_META);
  } catch (err) {
    return `cannot list the entry (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`;
  }
  const extra = onDisk.filter((f) => !listed.has(f));
  if (extra.length) return `unlisted file '${extra[0]}'`;
  const present = new Set(onDisk);
  const missing = [...listed.keys()].filter((f) => !present.has(f));
  if (missing.length) return `file '${missing[0]}' missing`;
  const portOf = new Map(Object.entries(meta.outputs).map(([port, o]) => [o.file, port]));
  for (const f of listed.values()) {
    const file = join(contentDir, f.path);
    const what = portOf.has(f.path) ? `output '${portOf.get(f.path)}'` : `file '${f.path}'`;
    const shown = join(dir, f.path);
    let size: number;
    try {
      const st = lstatSync(file);
      if (!st.isFile()) return `${what} is not a regular file: ${shown}`;
      size = st.size;
    } catch {
      return `${what} missing: ${shown}`;
    }
    if (size !== f.size) return `${what} size ${size} != ${f.size}: ${shown}`;
    const sha = await hashFile(file).catch(() => 'unreadable');
    if (sha !== f.sha256) return `${what} content hash mismatch: ${shown}`;
  }
  return undefined;
}

/** Lists and hashes every file a stage left in its staging directory (the manifest excluded). */
export async function describeContents(dir: string): Promise<EntryFile[]> {
  const w = walkFiles(dir);
  if ('problem' in w) throw new Error(`the stage left ${w.problem} in its output directory`);
  const out: EntryFile[] = [];
  for (const path of w.files.filter((f) => f !== ENTRY_META).sort()) {
    const file = join(dir, path);
    out.push({ path, sha256: await hashFile(file), size: lstatSync(file).size });
  }
  return out;
}
