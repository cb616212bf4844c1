import { createHash } from 'node:crypto';
import { createWriteStream, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { z } from 'zod';
import { confinedPath } from '@lth/artifacts';
import {
  LIMITS,
  type ArtifactStore,
  type Entry,
  type EntryMeta,
  type GetOptions,
  type LocalStore,
  type LockOptions,
  type Release,
  type Staging,
} from '@lth/pipeline';
import { readAll, type RemoteBackend } from './remote/backend';
import { FileBackend } from './remote/file-backend';
import { S3Backend } from './remote/s3-backend';
import { parseRemoteUrl } from './urls';

const KEY_RE = /^[0-9a-f]{64}$/;

/**
 * The parts of a manifest this store relies on, within the cache's LIMITS: checked before any
 * file is downloaded, so a manifest cannot make a machine fetch more than an entry may hold.
 * The local store validates the whole entry.json on commit.
 */
const Manifest = z.looseObject({
  key: z.string().regex(KEY_RE),
  contents: z
    .array(
      z.strictObject({
        path: z.string().min(1).max(1000),
        sha256: z.string().regex(KEY_RE),
        size: z
          .number()
          .int('must be a whole number of bytes')
          .nonnegative('must not be negative')
          .max(LIMITS.entryFileBytes, `must be at most ${LIMITS.entryFileBytes} bytes (LIMITS.entryFileBytes)`),
      }),
    )
    .max(LIMITS.entryFiles, `lists more than ${LIMITS.entryFiles} files (LIMITS.entryFiles)`)
    .refine((files) => files.reduce((n, f) => n + f.size, 0) <= LIMITS.entryBytes, `add up to more than ${LIMITS.entryBytes} bytes (LIMITS.entryBytes)`),
});

/** `the manifest is invalid at contents.1.size (file 'w.arrow': 1099511627776): must be at most ...`. */
function manifestProblem(json: unknown, issue: z.core.$ZodIssue | undefined): string {
  const path = issue?.path ?? [];
  let at = path.join('.') || '(root)';
  const file = path[0] === 'contents' && typeof path[1] === 'number' ? (json as { contents: unknown[] }).contents[path[1]] : undefined;
  if (file && typeof file === 'object') {
    const f = file as Record<string, unknown>;
    const value = path.length === 3 && typeof f[path[2] as string] === 'number' ? `: ${f[path[2] as string] as number}` : '';
    at += ` (file '${String(f['path']).slice(0, 200)}'${value})`;
  }
  return `the manifest is invalid at ${at}: ${issue?.message ?? 'does not match the schema'}`;
}

export function openBackend(url: string, env: NodeJS.ProcessEnv = process.env): RemoteBackend {
  const r = parseRemoteUrl(url);
  return r.kind === 'file' ? new FileBackend(r.dir) : new S3Backend(r.bucket, r.prefix, env);
}

export const blobName = (sha256: string) => `blobs/${sha256}`;
export const manifestName = (key: string) => `entries/${key}.json`;

/**
 * The local cache as a read-through cache in front of a remote store. `get` looks in the local
 * store, then fetches the remote entry into a local staging directory, verifying every file
 * (size and sha256) before the entry is committed locally: a corrupt remote entry is reported,
 * withdrawn from the remote store and treated as missing, so it is recomputed, never used.
 * `publish` uploads an entry: its files (by content) first, its manifest last, so a remote
 * entry exists only whole. Everything else (staging, locks, listing) is the local store's.
 */
export class RemoteStore implements ArtifactStore {
  /** Output sha256 → the key of an entry that holds it: how a job names its inputs. */
  private readonly producers = new Map<string, string>();

  constructor(
    readonly local: LocalStore,
    readonly remote: RemoteBackend,
    private readonly onProblem: (message: string) => void = () => {},
    /** `peek`: report remote entries by their manifest without downloading (`lth status`). */
    private readonly opts: { peek?: boolean } = {},
  ) {}

  get root(): string {
    return this.local.root;
  }

  /** The key of an entry seen by this store that has an output with this content. */
  producerOf(sha256: string): string | undefined {
    return this.producers.get(sha256);
  }

  private seen(entry: Entry): Entry {
    for (const o of Object.values(entry.meta.outputs)) this.producers.set(o.sha256, entry.key);
    return entry;
  }

  async get(key: string, opts?: GetOptions): Promise<Entry | undefined> {
    if (!KEY_RE.test(key)) return undefined;
    const local = await this.local.get(key, opts);
    if (local) return this.seen(local);
    if (this.opts.peek) {
      const meta = await this.manifest(key);
      return meta ? this.seen({ key, dir: this.local.entryDir(key), meta: meta as EntryMeta }) : undefined;
    }
    if (!(await this.fetch(key))) return undefined;
    const fetched = await this.local.get(key, opts);
    return fetched && this.seen(fetched);
  }

  /** The remote manifest of `key`, or undefined (missing, or unreadable: then reported and withdrawn). */
  async manifest(key: string): Promise<z.output<typeof Manifest> | undefined> {
    const stream = await this.remote.read(manifestName(key));
    if (!stream) return undefined;
    let problem: string;
    try {
      const json: unknown = JSON.parse((await readAll(stream, LIMITS.entryJsonBytes, 'the manifest')).toString('utf8'));
      const m = Manifest.safeParse(json);
      if (m.success && m.data.key === key) return m.data;
      problem = m.success ? `the manifest is for key ${m.data.key.slice(0, 12)}` : manifestProblem(json, m.error.issues[0]);
    } catch (err) {
      problem = err instanceof SyntaxError ? 'the manifest is not valid JSON' : (err as Error).message;
    }
    await this.withdraw(key, problem);
    return undefined;
  }

  /** True when `key` is now a valid local entry fetched from the remote store. */
  async fetch(key: string): Promise<boolean> {
    const meta = await this.manifest(key);
    if (!meta) return false;
    const staging = this.local.begin(key);
    let bad: { problem: string; blob?: string } | undefined;
    try {
      for (const f of meta.contents) {
        const target = confinedPath(staging.dir, f.path, `remote entry ${key.slice(0, 12)} file`);
        const problem = await this.download(blobName(f.sha256), target, f.size, f.sha256);
        if (problem) {
          bad = { problem: `file '${f.path}': ${problem}`, blob: problem === 'missing' ? undefined : blobName(f.sha256) };
          break;
        }
      }
      if (!bad) {
        await staging.commit(meta as unknown as EntryMeta);
        // The whole entry.json against the engine's schema, every file against the list.
        const problem = await this.local.check(key);
        if (!problem) return true;
        this.local.quarantine(key);
        bad = { problem };
      }
    } catch (err) {
      staging.abort();
      if ((err as Error).name === 'PathEscapeError') bad = { problem: (err as Error).message };
      else throw err;
    }
    staging.abort();
    if (bad) await this.withdraw(key, bad.problem, bad.blob);
    return false;
  }

  /**
   * Streams an object into `file`, counting and hashing on the way; undefined when it has
   * exactly `size` bytes with this sha256, else what is wrong. Never reads past `size`.
   */
  private async download(name: string, file: string, size: number, sha256: string): Promise<string | undefined> {
    const stream = await this.remote.read(name);
    if (!stream) return 'missing';
    mkdirSync(dirname(file), { recursive: true });
    const hash = createHash('sha256');
    let n = 0;
    const counter = new Transform({
      transform(chunk: Buffer, _enc, done) {
        n += chunk.length;
        if (n > size) return done(new Error(`more than the listed ${size} bytes`));
        hash.update(chunk);
        done(null, chunk);
      },
    });
    try {
      await pipeline(stream, counter, createWriteStream(file));
    } catch (err) {
      if (n > size) return `more than the listed ${size} bytes`;
      throw err;
    }
    if (n !== size) return `size ${n} != ${size}`;
    if (hash.digest('hex') !== sha256) return 'content hash mismatch';
    return undefined;
  }

  /**
   * A corrupt remote entry: reported, and its manifest (and the bad blob) removed so that it
   * is recomputed. A peeking store (`lth status`) changes nothing: it only reports.
   */
  private async withdraw(key: string, problem: string, blob?: string): Promise<void> {
    if (this.opts.peek) {
      this.onProblem(`remote entry ${key.slice(0, 12)} in ${this.remote.where} is corrupt (${problem}); the next run recomputes it`);
      return;
    }
    this.onProblem(`remote entry ${key.slice(0, 12)} in ${this.remote.where} is corrupt (${problem}); withdrawn, recomputing`);
    await this.remote.remove(manifestName(key));
    if (blob) await this.remote.remove(blob);
  }

  /** True when the remote store has a manifest for `key` (its files are checked when fetched). */
  async hasRemote(key: string): Promise<boolean> {
    return (await this.remote.size(manifestName(key))) !== undefined;
  }

  /**
   * Uploads a verified local entry: each file under its content hash (skipped when an object
   * of that size is already there; a bad one is found and replaced on the next fetch), then the
   * manifest, which makes the entry exist.
   */
  async publish(entry: Entry): Promise<void> {
    for (const f of entry.meta.contents) {
      const name = blobName(f.sha256);
      if ((await this.remote.size(name)) === f.size) continue;
      await this.remote.putFile(name, confinedPath(entry.dir, f.path, `cache entry ${entry.key.slice(0, 12)} file`));
    }
    await this.remote.putText(manifestName(entry.key), `${JSON.stringify(entry.meta, null, 2)}\n`);
    this.seen(entry);
  }

  pin(entry: Entry, pinTo: string): Entry {
    return this.local.pin(entry, pinTo);
  }
  check(key: string): Promise<string | undefined> {
    return this.local.check(key);
  }
  begin(key: string): Staging {
    return this.local.begin(key);
  }
  lock(key: string, opts?: LockOptions): Promise<Release> {
    return this.local.lock(key, opts);
  }
  list(): EntryMeta[] {
    return this.local.list();
  }
  keys(): string[] {
    return this.local.keys();
  }
  remove(key: string): void {
    this.local.remove(key);
  }
  quarantine(key: string): void {
    this.local.quarantine(key);
  }
  quarantineName(name: string): void {
    this.local.quarantineName(name);
  }
  entryDir(key: string): string {
    return this.local.entryDir(key);
  }
}
