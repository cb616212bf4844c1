import { randomBytes } from 'node:crypto';
import { existsSync, linkSync, lstatSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { confinedPath, type TaskTimings } from '@lth/artifacts';
import { checkEntryFiles, readEntryMeta, type EntryMeta } from './entry';
import { fsErrorText } from './fs-safe';
import { acquireLock, type LockOptions, type Release } from './lock';
import { ASIDE, asidePath, entriesDir, entryMetaFile, entryPath, FILES_DIR, keyLockFile, stagingDir, type AsideDir } from './layout';

export { type EntryMeta, type EntryOutput, type EntryFile } from './entry';

export interface Entry {
  key: string;
  /** Where to read the entry's files: its directory, or this run's pinned copy of it. */
  dir: string;
  meta: EntryMeta;
  /** Set by the task that computed it in this process: where that time went (never persisted). */
  timings?: TaskTimings;
}

/** A directory where one entry is being built; nothing is visible until commit. */
export interface Staging {
  dir: string;
  commit(meta: EntryMeta): Promise<Entry>;
  abort(): void;
}

export interface GetOptions {
  /**
   * Default true (call it holding the key's lock): a corrupt entry is reported and moved aside;
   * with false it is only treated as missing.
   */
  repair?: boolean;
  /**
   * Hard-link the entry's files under this directory first and verify (and return) that copy:
   * the files a run reads then stay exactly what it verified, whatever a concurrent `--force`,
   * repair or gc does to the entry afterwards.
   */
  pinTo?: string;
}

/**
 * Where cache entries live. The local directory is the one implementation; an object store
 * would implement the same (get verifies, commit is atomic, lock is exclusive per key).
 */
export interface ArtifactStore {
  readonly root: string;
  /** A verified entry, or undefined. */
  get(key: string, opts?: GetOptions): Promise<Entry | undefined>;
  /**
   * The entry with its files hard-linked under `pinTo` (or as it is, where links are
   * impossible), without verifying again: for an entry just verified, under its key's lock.
   */
  pin(entry: Entry, pinTo: string): Entry;
  /** Undefined when the entry is sound, else what is wrong with it. */
  check(key: string): Promise<string | undefined>;
  begin(key: string): Staging;
  lock(key: string, opts?: LockOptions): Promise<Release>;
  /** The valid manifest of every entry (content not verified). */
  list(): EntryMeta[];
  /** Names under entries/ (keys, or whatever else is there). */
  keys(): string[];
  remove(key: string): void;
  /** Moves an entry to corrupt/ (where `lth cache gc` deletes it). */
  quarantine(key: string): void;
  /** Moves whatever is under entries/ with this name (not a cache key) to corrupt/. */
  quarantineName(name: string): void;
  entryDir(key: string): string;
}

const KEY_RE = /^[0-9a-f]{64}$/;

/**
 * Entries are built in a staging directory and renamed into place; corrupt entries go to
 * corrupt/, replaced and removed ones pass through trash/ (the names: layout.ts).
 */
export class LocalStore implements ArtifactStore {
  constructor(
    readonly root: string,
    private readonly onProblem: (message: string) => void = () => {},
  ) {}

  entryDir(key: string): string {
    if (!KEY_RE.test(key)) throw new Error(`not a cache key: '${key.slice(0, 80)}'`);
    return entryPath(this.root, key);
  }

  keys(): string[] {
    try {
      return readdirSync(entriesDir(this.root));
    } catch {
      return [];
    }
  }

  async get(key: string, opts: GetOptions = {}): Promise<Entry | undefined> {
    if (!KEY_RE.test(key)) return undefined;
    const dir = this.entryDir(key);
    let problem = '';
    for (let attempt = 0; attempt < 3; attempt++) {
      if (!existsSync(dir)) return undefined;
      if (!lstatSync(dir).isDirectory()) {
        problem = 'the entry is not a directory';
        break;
      }
      const read = readEntryMeta(dir);
      if ('problem' in read) {
        problem = read.problem;
        break;
      }
      const pinned = opts.pinTo ? this.pinFiles(dir, key, read.meta, opts.pinTo) : undefined;
      const found = await checkEntryFiles(dir, key, read.meta, pinned ?? dir);
      if (found === undefined) return { key, dir: pinned ?? dir, meta: read.meta };
      if (pinned) rmSync(pinned, { recursive: true, force: true });
      problem = found;
      // Replaced (a forced rerun committed) or removed while we read it: not corrupt, look again.
      const now = readEntryMeta(dir);
      if (!existsSync(dir) || ('meta' in now && JSON.stringify(now.meta) !== JSON.stringify(read.meta))) continue;
      break;
    }
    if (!existsSync(dir)) return undefined;
    if (opts.repair === false) return undefined;
    this.onProblem(`cache entry ${key.slice(0, 12)} is corrupt (${problem}); moved aside, recomputing`);
    this.quarantine(key);
    return undefined;
  }

  pin(entry: Entry, pinTo: string): Entry {
    const dir = this.pinFiles(this.entryDir(entry.key), entry.key, entry.meta, pinTo);
    return dir ? { ...entry, dir } : entry;
  }

  async check(key: string): Promise<string | undefined> {
    if (!KEY_RE.test(key)) return 'the name under entries/ is not a cache key';
    const dir = this.entryDir(key);
    try {
      if (!lstatSync(dir).isDirectory()) return 'the entry is not a directory';
    } catch {
      return 'the entry is missing';
    }
    const read = readEntryMeta(dir);
    return 'problem' in read ? read.problem : checkEntryFiles(dir, key, read.meta);
  }

  /** Hard links of the listed files under `<pinTo>/<key>-<random>`; undefined if links are impossible here. */
  private pinFiles(dir: string, key: string, meta: EntryMeta, pinTo: string): string | undefined {
    const to = join(pinTo, `${key}-${randomBytes(4).toString('hex')}`);
    try {
      mkdirSync(to, { recursive: true });
      for (const f of meta.contents) {
        const target = confinedPath(to, f.path, `cache entry ${key.slice(0, 12)} file`);
        mkdirSync(dirname(target), { recursive: true });
        linkSync(confinedPath(dir, f.path, `cache entry ${key.slice(0, 12)} file`), target);
      }
      writeFileSync(entryMetaFile(to), `${JSON.stringify(meta, null, 2)}\n`);
      return to;
    } catch {
      // No links here (read-only cache, another device...) or a missing or escaping file: the
      // caller then checks the entry in place, which reports the latter.
      rmSync(to, { recursive: true, force: true });
      return undefined;
    }
  }

  private aside(key: string, under: AsideDir): string {
    return asidePath(this.root, under, `${key}-${process.pid}-${Date.now()}-${randomBytes(3).toString('hex')}`);
  }

  quarantine(key: string): void {
    const to = this.aside(key, ASIDE.corrupt);
    try {
      mkdirSync(dirname(to), { recursive: true });
      renameSync(this.entryDir(key), to);
    } catch (err) {
      try {
        rmSync(this.entryDir(key), { recursive: true, force: true });
      } catch {
        this.onProblem(`could not move corrupt entry ${key.slice(0, 12)} aside: ${fsErrorText(err)}; it is not used`);
      }
    }
  }

  quarantineName(name: string): void {
    if (name.includes('/') || name === '..' || name === '.') return;
    const to = this.aside('unknown', ASIDE.corrupt);
    mkdirSync(dirname(to), { recursive: true });
    renameSync(entryPath(this.root, name), to);
  }

  begin(key: string): Staging {
    const dir = stagingDir(this.root, `${key.slice(0, 16)}-${process.pid}-${randomBytes(6).toString('hex')}`);
    try {
      mkdirSync(join(dir, FILES_DIR), { recursive: true });
    } catch (err) {
      throw new Error(`cannot write to the cache ${this.root}: ${fsErrorText(err)}`, { cause: err });
    }
    return {
      dir,
      commit: async (meta) => {
        writeFileSync(entryMetaFile(dir), `${JSON.stringify(meta, null, 2)}\n`);
        mkdirSync(entriesDir(this.root), { recursive: true });
        const target = this.entryDir(key);
        try {
          renameSync(dir, target);
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code;
          if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw err;
          // Replacing (forced rerun): the old entry goes aside whole, the new one comes in whole.
          // Runs reading the old one read their pinned links of it, which stay valid.
          const old = this.aside(key, ASIDE.trash);
          mkdirSync(dirname(old), { recursive: true });
          renameSync(target, old);
          renameSync(dir, target);
          rmSync(old, { recursive: true, force: true });
        }
        return { key, dir: target, meta };
      },
      abort: () => rmSync(dir, { recursive: true, force: true }),
    };
  }

  lock(key: string, opts?: LockOptions): Promise<Release> {
    return acquireLock(keyLockFile(this.root, key), opts);
  }

  list(): EntryMeta[] {
    const out: EntryMeta[] = [];
    for (const key of this.keys()) {
      if (!KEY_RE.test(key)) continue;
      const m = readEntryMeta(entryPath(this.root, key));
      if ('meta' in m && m.meta.key === key) out.push(m.meta);
    }
    return out;
  }

  remove(key: string): void {
    // Renamed away first so that a half-finished removal never looks like an entry.
    const old = this.aside(key, ASIDE.trash);
    mkdirSync(dirname(old), { recursive: true });
    try {
      renameSync(this.entryDir(key), old);
    } catch {
      return;
    }
    rmSync(old, { recursive: true, force: true });
  }
}
