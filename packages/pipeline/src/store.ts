import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hashFile, type ArtifactKind } from '@lth/artifacts';
import type { KeyParts } from './key';
import { acquireLock, type LockOptions, type Release } from './lock';

export interface EntryOutput {
  /** Path relative to the entry directory. */
  file: string;
  kind: ArtifactKind;
  sha256: string;
}

/** entry.json: everything needed to reuse the outputs and to explain a later cache miss. */
export interface EntryMeta {
  version: 1;
  key: string;
  parts: KeyParts;
  /** Registered stage id. */
  stage: string;
  /** Pipeline name and expanded stage id that produced it (for `lth status` comparisons). */
  pipeline: string;
  path: string;
  config: unknown;
  inputs: Record<string, unknown>;
  outputs: Record<string, EntryOutput>;
  /** Extra files the stage wrote into its outDir (relative to the entry), e.g. a report. */
  files?: string;
  timings: { startedAt: string; finishedAt: string; durationMs: number };
  backend: string;
}

export interface Entry {
  key: string;
  dir: string;
  meta: EntryMeta;
}

/** A directory where one entry is being built; nothing is visible until commit. */
export interface Staging {
  dir: string;
  commit(meta: EntryMeta): Promise<Entry>;
  abort(): void;
}

/**
 * Where cache entries live. The local directory is the one implementation; an object store
 * would implement the same (get verifies, commit is atomic, lock is exclusive per key).
 */
export interface ArtifactStore {
  readonly root: string;
  /**
   * A verified entry, or undefined. With `repair` (default; call it holding the key's lock) a
   * corrupt entry is reported and moved aside; without, it is only treated as missing.
   */
  get(key: string, opts?: { repair?: boolean }): Promise<Entry | undefined>;
  begin(key: string): Staging;
  lock(key: string, opts?: LockOptions): Promise<Release>;
  list(): EntryMeta[];
  remove(key: string): void;
  entryDir(key: string): string;
}

/**
 * `<root>/entries/<key>/{entry.json, <port>.arrow, files/}`, built in `<root>/tmp/<random>/`
 * and renamed into place; `<root>/locks/<key>.lock`; corrupt entries go to `<root>/corrupt/`.
 */
export class LocalStore implements ArtifactStore {
  constructor(
    readonly root: string,
    private readonly onProblem: (message: string) => void = () => {},
  ) {}

  entryDir(key: string): string {
    return join(this.root, 'entries', key);
  }

  async get(key: string, opts: { repair?: boolean } = {}): Promise<Entry | undefined> {
    const dir = this.entryDir(key);
    if (!existsSync(dir)) return undefined;
    const problem = await this.verify(key, dir);
    if (problem === undefined) return { key, dir, meta: this.readMeta(dir) as EntryMeta };
    if (opts.repair === false) return undefined;
    this.onProblem(`cache entry ${key.slice(0, 12)} is corrupt (${problem}); moved aside, recomputing`);
    this.quarantine(key);
    return undefined;
  }

  private readMeta(dir: string): EntryMeta | undefined {
    try {
      return JSON.parse(readFileSync(join(dir, 'entry.json'), 'utf8')) as EntryMeta;
    } catch {
      return undefined;
    }
  }

  /** Undefined when every output exists with its recorded sha256; else what is wrong. */
  private async verify(key: string, dir: string): Promise<string | undefined> {
    const meta = this.readMeta(dir);
    if (!meta || meta.key !== key || typeof meta.outputs !== 'object') return 'entry.json missing or invalid';
    for (const [port, out] of Object.entries(meta.outputs)) {
      const file = join(dir, out.file);
      if (!existsSync(file)) return `output '${port}' missing: ${file}`;
      const sha = await hashFile(file).catch(() => 'unreadable');
      if (sha !== out.sha256) return `output '${port}' content hash mismatch: ${file}`;
    }
    return undefined;
  }

  private quarantine(key: string): void {
    const to = join(this.root, 'corrupt', `${key}-${Date.now()}-${randomBytes(3).toString('hex')}`);
    mkdirSync(join(this.root, 'corrupt'), { recursive: true });
    try {
      renameSync(this.entryDir(key), to);
    } catch {
      rmSync(this.entryDir(key), { recursive: true, force: true });
    }
  }

  begin(key: string): Staging {
    const dir = join(this.root, 'tmp', `${key.slice(0, 16)}-${process.pid}-${randomBytes(6).toString('hex')}`);
    mkdirSync(join(dir, 'files'), { recursive: true });
    return {
      dir,
      commit: async (meta) => {
        writeFileSync(join(dir, 'entry.json'), `${JSON.stringify(meta, null, 2)}\n`);
        mkdirSync(join(this.root, 'entries'), { recursive: true });
        const target = this.entryDir(key);
        if (existsSync(target)) {
          // Replacing (forced rerun): move the old entry aside first; rename is atomic per step.
          const old = join(this.root, 'tmp', `old-${key.slice(0, 16)}-${randomBytes(6).toString('hex')}`);
          renameSync(target, old);
          rmSync(old, { recursive: true, force: true });
        }
        renameSync(dir, target);
        return { key, dir: target, meta };
      },
      abort: () => rmSync(dir, { recursive: true, force: true }),
    };
  }

  lock(key: string, opts?: LockOptions): Promise<Release> {
    return acquireLock(join(this.root, 'locks', `${key}.lock`), opts);
  }

  list(): EntryMeta[] {
    const dir = join(this.root, 'entries');
    if (!existsSync(dir)) return [];
    const out: EntryMeta[] = [];
    for (const key of readdirSync(dir)) {
      const m = this.readMeta(join(dir, key));
      if (m) out.push(m);
    }
    return out;
  }

  remove(key: string): void {
    rmSync(this.entryDir(key), { recursive: true, force: true });
  }
}
