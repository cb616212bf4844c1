import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, linkSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';

/** What a file-system error means for the user, e.g. 'no space left on device (ENOSPC)'. */
export function fsErrorText(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  const plain: Record<string, string> = {
    ENOSPC: 'no space left on device',
    EDQUOT: 'disk quota exceeded',
    EROFS: 'read-only file system',
    EACCES: 'permission denied',
    EPERM: 'operation not permitted',
    ENOTDIR: 'a component of the path is not a directory',
    EISDIR: 'is a directory',
    ENOENT: 'no such file or directory',
  };
  const text = code && plain[code];
  const path = (err as NodeJS.ErrnoException | undefined)?.path;
  if (text) return `${text} (${code}${path ? `: ${path}` : ''})`;
  return err instanceof Error ? err.message : String(err);
}

/** Whether the error says the disk or directory cannot take a write (vs a bug). */
export function isWriteRefused(err: unknown): boolean {
  return ['ENOSPC', 'EDQUOT', 'EROFS', 'EACCES', 'EPERM', 'ENOTDIR'].includes((err as NodeJS.ErrnoException | undefined)?.code ?? '');
}

/** Writes `text` completely to a fresh temporary sibling of `file`; returns its path. */
function writeTemp(file: string, text: string): string {
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const fd = openSync(tmp, 'wx');
  try {
    const buf = Buffer.from(text);
    for (let off = 0; off < buf.length;) off += writeSync(fd, buf, off);
    fsyncSync(fd);
  } catch (err) {
    closeSync(fd);
    try {
      unlinkSync(tmp);
    } catch {
      /* the write failed; so may the cleanup */
    }
    throw err;
  }
  closeSync(fd);
  return tmp;
}

/** Replaces `file` with `text` all at once: readers see the old or the new content, never a part. */
export function writeFileAtomic(file: string, text: string): void {
  const tmp = writeTemp(file, text);
  try {
    renameSync(tmp, file);
  } catch (err) {
    try {
      unlinkSync(tmp);
    } catch {
      /* gone */
    }
    throw err;
  }
}

/**
 * Creates `file` with `text` only if it does not exist (EEXIST otherwise), all at once: the
 * content is written to a temporary file first and linked into place, and link never replaces.
 * So a crash or a full disk can leave a stray `.tmp` but never an empty or partial `file`.
 */
export function createFileExclusive(file: string, text: string): void {
  const tmp = writeTemp(file, text);
  try {
    linkSync(tmp, file);
  } finally {
    try {
      unlinkSync(tmp);
    } catch {
      /* gone */
    }
  }
}
