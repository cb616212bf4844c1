import { existsSync, linkSync, mkdirSync, readFileSync, unlinkSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { holdsContent, sha256, verifyContent } from './download';
import type { ManifestFile } from './manifest';

/**
 * The cached copy of a manifest file, verified, or why there is none. A cached file that fails
 * verification is not used and not deleted: it may be the user's good copy and the manifest the
 * thing that is wrong. It is moved, unchanged, to `.quarantine/` beside it (the message says
 * where), or left in place when that fails, and then `blocked` says that nothing may be
 * written over it. A quarantined copy that matches the manifest comes back under its name
 * (the manifest was wrong and has been fixed).
 */
export function readCached(file: string, entry: ManifestFile, log?: (message: string) => void): { bytes: Uint8Array } | { failure: string; blocked: boolean } {
  const earlier = quarantinedPath(file, entry.sha256);
  if (!existsSync(file) && existsSync(earlier) && holdsContent(earlier, entry) && restoreQuarantined(earlier, file)) {
    log?.(`restored ${file} from ${earlier}: it matches the manifest now`);
  }
  if (!existsSync(file)) return { failure: `not in ${file}`, blocked: false };
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (err) {
    // Not a readable file (a directory, no permission): neither used nor touched.
    return { failure: `cannot read ${file}: ${(err as Error).message}; left it in place`, blocked: true };
  }
  try {
    verifyContent(bytes, entry, file);
    return { bytes };
  } catch (err) {
    let fate: string;
    let blocked = false;
    try {
      fate = `moved it unchanged to ${quarantine(file, sha256(bytes))} (nothing was deleted)`;
    } catch (qerr) {
      blocked = true;
      fate = `left it in place (could not move it aside: ${(qerr as Error).message}), so nothing will be written over it`;
    }
    log?.(`${(err as Error).message}; ${fate}`);
    return { failure: `${(err as Error).message}; ${fate}`, blocked };
  }
}

/**
 * Moves a file that failed verification against its manifest out of the way, without changing
 * or deleting a byte of it: the file may be the user's good copy and the manifest the thing that
 * is wrong. It goes to `.quarantine/<name>.sha256-<16 hex>` beside it (a numbered name if that
 * exists: nothing already there is replaced). The move is a hard link followed by removing the
 * old name, so the content is never absent from the disk; returns the new path.
 */
export function quarantine(file: string, actualSha256: string): string {
  const dir = join(dirname(file), '.quarantine');
  mkdirSync(dir, { recursive: true });
  for (let i = 0; i < 1000; i++) {
    const target = `${quarantinedPath(file, actualSha256)}${i === 0 ? '' : `.${i}`}`;
    try {
      linkSync(file, target);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') continue;
      throw err;
    }
    unlinkSync(file);
    return target;
  }
  throw new Error(`${dir} already holds 1000 quarantined copies of ${basename(file)}`);
}

/** Where quarantine() puts the first copy of `file` with this content. */
export function quarantinedPath(file: string, sha256: string): string {
  return join(dirname(file), '.quarantine', `${basename(file)}.sha256-${sha256.slice(0, 16)}`);
}

/**
 * Puts a quarantined copy back under its name (a hard link, never over an existing file), for
 * when the manifest was what was wrong and has been fixed. The caller verifies the content.
 */
export function restoreQuarantined(copy: string, file: string): boolean {
  if (!existsSync(copy)) return false;
  try {
    linkSync(copy, file);
  } catch {
    return false;
  }
  unlinkSync(copy);
  return true;
}
