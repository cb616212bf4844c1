import { existsSync, lstatSync, readdirSync, rmSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { liveRuns } from './active';
import { acquireLock, alive, lockIsLive } from './lock';
import {
  activeDir,
  activeIdOf,
  entryMetaFile,
  entryPath,
  gcLockFile,
  isTempFileName,
  keyLockFile,
  leftoverDir,
  LEFTOVER_DIRS,
  locksDir,
  OWNED_BY_PROCESS,
  PINS_DIR,
} from './layout';
import { listRunRecords } from './record';
import type { ArtifactStore, EntryMeta } from './store';

export interface CacheListing {
  key: string;
  pipeline: string;
  path: string;
  stage: string;
  bytes: number;
  finishedAt: string;
}

function dirBytes(dir: string): number {
  let n = 0;
  try {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      n += e.isDirectory() ? dirBytes(p) : lstatSync(p).size;
    }
  } catch {
    /* removed meanwhile */
  }
  return n;
}

export function listCache(store: ArtifactStore): CacheListing[] {
  return store
    .list()
    .map((m: EntryMeta) => ({
      key: m.key,
      pipeline: m.pipeline,
      path: m.path,
      stage: m.stage,
      bytes: existsSync(store.entryDir(m.key)) ? dirBytes(store.entryDir(m.key)) : 0,
      finishedAt: m.timings.finishedAt,
    }))
    .sort((a, b) => (a.finishedAt < b.finishedAt ? 1 : -1));
}

export interface GcResult {
  kept: number;
  removed: number;
  freedBytes: number;
  removedRuns: number;
  /** Entries kept only because a live run uses them, a live lock holds them, or they are new. */
  protected: number;
  /** The cache keys removed (with dryRun: that would be removed). */
  removedKeys: string[];
  /** True when nothing was removed because dryRun was set. */
  dryRun: boolean;
}

export interface GcOptions {
  keepRuns: number;
  /** Cache keys to keep (those the given pipelines need now). */
  keep?: Iterable<string>;
  /** Entries (and leftovers) younger than this are never removed; default 10 minutes. */
  graceMs?: number;
  /** Warnings: skipped run records (named by file). */
  warn?: (message: string) => void;
  /** Decide and count as usual, remove nothing (entries, run records or leftovers). */
  dryRun?: boolean;
}

export const DEFAULT_GC_GRACE_MS = 10 * 60_000;

/** Age of a path: since its last change (written, renamed into place), whichever is newer. */
function ageMs(path: string): number {
  try {
    const st = lstatSync(path);
    return Date.now() - Math.max(st.mtimeMs, st.ctimeMs);
  } catch {
    return Infinity;
  }
}

/**
 * Removes every entry not needed by the newest `keepRuns` run records nor listed in `keep`,
 * drops older run records, corrupt entries set aside, and leftovers of dead processes.
 *
 * It never removes an entry that a live run registered (runs/active), that a live lock holds
 * (being computed or repaired), or that is younger than the grace period; two gcs do not run
 * at once (locks/gc.lock). A run also pins (hard-links) every entry it verified, so even an
 * entry removed from under it keeps its content for that run.
 */
export async function gcCache(store: ArtifactStore, opts: GcOptions): Promise<GcResult> {
  const graceMs = opts.graceMs ?? DEFAULT_GC_GRACE_MS;
  const release = await acquireLock(gcLockFile(store.root));
  try {
    const keep = new Set(opts.keep ?? []);
    const runs = listRunRecords(store.root, opts.warn);
    let removedRuns = 0;
    runs.forEach(({ file, record }, i) => {
      if (i < opts.keepRuns) {
        for (const s of record.stages) if (s.cacheKey) keep.add(s.cacheKey);
      } else {
        if (!opts.dryRun) unlinkSync(file);
        removedRuns++;
      }
    });
    const inUse = new Set(liveRuns(store.root, { reap: true }).flatMap((r) => r.keys));
    const result: GcResult = { kept: 0, removed: 0, freedBytes: 0, removedRuns, protected: 0, removedKeys: [], dryRun: Boolean(opts.dryRun) };
    for (const key of store.keys()) {
      if (keep.has(key)) {
        result.kept++;
        continue;
      }
      const dir = entryPath(store.root, key);
      if (inUse.has(key) || lockIsLive(keyLockFile(store.root, key)) || ageMs(dir) < graceMs || ageMs(entryMetaFile(dir)) < graceMs) {
        result.kept++;
        result.protected++;
        continue;
      }
      result.freedBytes += dirBytes(dir);
      result.removed++;
      result.removedKeys.push(key);
      if (opts.dryRun) continue;
      if (/^[0-9a-f]{64}$/.test(key)) store.remove(key);
      else rmSync(dir, { recursive: true, force: true });
    }
    // Leftovers of dead processes are not counted in a dry run: finding them means removing them.
    if (!opts.dryRun) result.freedBytes += removeLeftovers(store.root, graceMs);
    return result;
  } finally {
    release();
  }
}

/** The pid in the name of a staging directory (`<key16>-<pid>-<hex>`) or of pins (`<stamp>-<pid>-<hex>`). */
function ownerPid(name: string): number | undefined {
  const m = /^[0-9a-zA-Z-]*?-(\d+)-[0-9a-f]+$/.exec(name);
  const pid = Number(m?.[1]);
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

/**
 * corrupt/ and trash/ entries, staging directories (tmp/) and pins of processes that are gone,
 * and stray temporary lock files; all only once older than the grace period.
 */
function removeLeftovers(root: string, graceMs: number): number {
  let freed = 0;
  const registered = new Set(readdirSafe(activeDir(root)).map(activeIdOf));
  for (const sub of LEFTOVER_DIRS) {
    const dir = leftoverDir(root, sub);
    for (const name of readdirSafe(dir)) {
      const path = join(dir, name);
      if (ageMs(path) < graceMs) continue;
      const pid = ownerPid(name);
      if (OWNED_BY_PROCESS.has(sub) && pid !== undefined && alive(pid)) continue;
      if (sub === PINS_DIR && registered.has(name)) continue;
      freed += dirBytes(path);
      rmSync(path, { recursive: true, force: true });
    }
  }
  for (const name of readdirSafe(locksDir(root))) {
    const file = join(locksDir(root), name);
    if (isTempFileName(name) && ageMs(file) >= graceMs) rmSync(file, { force: true });
  }
  return freed;
}

function readdirSafe(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
