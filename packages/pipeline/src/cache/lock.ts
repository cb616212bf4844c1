import { linkSync, readFileSync, renameSync, statSync, unlinkSync, utimesSync, mkdirSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import { createFileExclusive, fsErrorText } from './fs-safe';

/**
 * An exclusive lock file holding {pid, host}, created complete (content written to a temporary
 * file, then linked into place: link fails if the lock exists and never leaves an empty lock,
 * even on a full disk). A lock is stale when its owner is a dead process on this host
 * (immediate recovery after a crash or SIGKILL), when it holds no valid owner (an empty or
 * partial lock of an older lth), or when its heartbeat (mtime, refreshed every staleMs/3) is
 * older than staleMs (other hosts on a shared directory, or a hung owner).
 */
export interface LockOptions {
  staleMs?: number;
  pollMs?: number;
  signal?: AbortSignal;
  /** Called once if the lock is held by someone else and we start waiting. */
  onWait?: (holder: string) => void;
}

export type Release = () => void;

export async function acquireLock(file: string, opts: LockOptions = {}): Promise<Release> {
  const staleMs = opts.staleMs ?? 30_000;
  const pollMs = opts.pollMs ?? 100;
  try {
    mkdirSync(dirname(file), { recursive: true });
  } catch (err) {
    throw new Error(`cannot create the lock directory ${dirname(file)}: ${fsErrorText(err)}`, { cause: err });
  }
  const me = JSON.stringify({ pid: process.pid, host: hostname(), since: new Date().toISOString(), nonce: Math.random() });
  let waited = false;
  for (;;) {
    if (opts.signal?.aborted) throw new Error('interrupted while waiting for a cache lock');
    try {
      createFileExclusive(file, me);
      const beat = setInterval(
        () => {
          try {
            const t = new Date();
            utimesSync(file, t, t);
          } catch {
            /* lock removed by a takeover; the owner finds out at release */
          }
        },
        Math.max(50, staleMs / 3),
      );
      beat.unref();
      return () => {
        clearInterval(beat);
        try {
          if (readFileSync(file, 'utf8') === me) unlinkSync(file);
        } catch {
          /* already gone */
        }
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw new Error(`cannot create the cache lock ${file}: ${fsErrorText(err)}`, { cause: err });
    }
    const holder = readHolder(file);
    if (holder !== undefined && isStale(file, holder, staleMs)) {
      reap(file, holder);
      continue;
    }
    if (!waited) {
      waited = true;
      opts.onWait?.(holder ?? '?');
    }
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

function readHolder(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

function isStale(file: string, holder: string, staleMs: number): boolean {
  const info = lockHolder(holder);
  // Locks are created complete, so one without a valid owner can never become valid.
  if (!info) return true;
  if (info.host === hostname() && !alive(info.pid)) return true;
  try {
    return Date.now() - statSync(file).mtimeMs > staleMs;
  } catch {
    return false;
  }
}

/** The owner a lock file names, or undefined when its content is not a valid owner. */
export function lockHolder(text: string): { pid: number; host: string } | undefined {
  try {
    const v = JSON.parse(text) as { pid?: unknown; host?: unknown };
    if (Number.isInteger(v.pid) && (v.pid as number) > 0 && typeof v.host === 'string') return { pid: v.pid as number, host: v.host };
  } catch {
    /* not JSON */
  }
  return undefined;
}

/**
 * Whether the lock file is held by a live owner: a live process on this host, or (another
 * host, whose processes we cannot see) a heartbeat younger than staleMs.
 */
export function lockIsLive(file: string, staleMs = 30_000): boolean {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return false;
  }
  return !isStale(file, text, staleMs);
}

/** Whether a process of this host is still running (EPERM: it is, but not ours). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes a stale lock without removing a fresh one that replaced it meanwhile: rename it
 * aside, and if what we moved is not the stale holder, link it back (link never overwrites).
 */
function reap(file: string, holder: string): void {
  const aside = `${file}.stale.${process.pid}.${Math.random().toString(36).slice(2)}`;
  try {
    renameSync(file, aside);
  } catch {
    return;
  }
  try {
    if (readFileSync(aside, 'utf8') !== holder) {
      try {
        linkSync(aside, file);
      } catch {
        /* someone else holds it now; theirs wins */
      }
    }
  } finally {
    try {
      unlinkSync(aside);
    } catch {
      /* gone */
    }
  }
}
