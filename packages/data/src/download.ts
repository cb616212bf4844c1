import { createHash } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, linkSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { SingleBar, Presets } from 'cli-progress';
import type { ManifestFile } from './manifest';

export interface DownloadOptions {
  /** Overrides the manifest's URL (e.g. a mirror, or a local test server). */
  url?: string;
  signal?: AbortSignal;
  /** Draw a progress bar; default: only when stderr is a TTY. */
  progress?: boolean;
  log?: (message: string) => void;
  /** Called as bytes arrive (e.g. to feed a pipeline stage's progress); total when known. */
  onProgress?: (received: number, total: number | undefined) => void;
}

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Checks a file's content against its manifest entry; the error names the file and both digests. */
export function verifyContent(bytes: Uint8Array, entry: ManifestFile, where: string): void {
  if (bytes.length !== entry.size) {
    throw new Error(`${where}: ${entry.name} has ${bytes.length} bytes, the manifest says ${entry.size}${bytes.length < entry.size ? ' (truncated)' : ''}`);
  }
  const actual = sha256(bytes);
  if (actual !== entry.sha256) {
    throw new Error(`${where}: checksum mismatch for ${entry.name}: expected sha256 ${entry.sha256}, got ${actual} (corrupted or a different version)`);
  }
}

/** Whether `file` exists and holds exactly the manifest entry's content. */
export function holdsContent(file: string, entry: ManifestFile): boolean {
  try {
    verifyContent(readFileSync(file), entry, file);
    return true;
  } catch {
    return false;
  }
}

/**
 * Writes bytes to a temporary name beside the target and publishes them there, so no reader
 * sees a partial file. It never replaces a file: publishing is a hard link, which fails if the
 * target exists (then the error says so and the existing file is untouched). The only file it
 * ever removes is its own temporary one.
 */
export function writeFileAtomic(file: string, bytes: Uint8Array): void {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = join(dirname(file), `.${basename(file)}.${process.pid}.${Math.random().toString(36).slice(2)}.part`);
  try {
    const fd = openSync(tmp, 'wx');
    try {
      for (let off = 0; off < bytes.length;) off += writeSync(fd, bytes, off, bytes.length - off);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    publish(tmp, file);
  } finally {
    rmSync(tmp, { force: true });
  }
}

function publish(tmp: string, file: string): void {
  try {
    linkSync(tmp, file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') throw new Error(`${file} already exists; not replacing it`, { cause: err });
    // A file system without hard links: rename, after checking that the name is free.
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP') throw err;
    if (existsSync(file)) throw new Error(`${file} already exists; not replacing it`, { cause: err });
    renameSync(tmp, file);
  }
}

/**
 * Downloads one manifest file into `dest`, verifies the download (size, sha256/md5 when the
 * manifest has them) and the content (size, sha256, after gunzip when the URL serves gzip), and
 * only then renames it into place. The body is held in memory: the largest file (CIFAR-10,
 * 170 MB) fits, and nothing is ever written to `dest` before it is verified.
 */
export async function downloadFile(entry: ManifestFile, dest: string, opts: DownloadOptions = {}): Promise<Uint8Array> {
  const url = opts.url ?? entry.url;
  let res: Response;
  try {
    res = await fetch(url, { signal: opts.signal });
  } catch (err) {
    const cause = (err as { cause?: { message?: string } }).cause?.message;
    throw new Error(`download of ${entry.name} from ${url} failed: ${(err as Error).message}${cause ? ` (${cause})` : ''}`, { cause: err });
  }
  if (!res.ok || !res.body) {
    await res.body?.cancel().catch(() => {});
    throw new Error(`download of ${entry.name} from ${url} failed: HTTP ${res.status} ${res.statusText}`);
  }
  const lengthHeader = res.headers.get('content-length');
  const expected = lengthHeader !== null ? Number(lengthHeader) : entry.download?.size;
  const showBar = opts.progress ?? Boolean(process.stderr.isTTY);
  const bar = showBar
    ? new SingleBar({ format: `${entry.name} [{bar}] {percentage}% {value}/{total} bytes`, stream: process.stderr }, Presets.shades_classic)
    : undefined;
  bar?.start(expected ?? 0, 0);
  const chunks: Uint8Array[] = [];
  let received = 0;
  try {
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      chunks.push(chunk);
      received += chunk.length;
      bar?.update(received);
      opts.onProgress?.(received, expected);
    }
  } catch (err) {
    throw new Error(
      `download of ${entry.name} from ${url} was interrupted after ${received}${expected !== undefined ? ` of ${expected}` : ''} bytes: ${(err as Error).message}`,
      { cause: err },
    );
  } finally {
    bar?.stop();
  }
  if (lengthHeader !== null && received !== Number(lengthHeader)) {
    throw new Error(`download of ${entry.name} from ${url} is truncated: received ${received} of ${lengthHeader} bytes`);
  }
  const body = Buffer.concat(chunks, received);
  const d = entry.download;
  if (d?.size !== undefined && body.length !== d.size) {
    throw new Error(`download of ${entry.name} from ${url} has ${body.length} bytes, the manifest says ${d.size}${body.length < d.size ? ' (truncated)' : ''}`);
  }
  if (d?.sha256 !== undefined && sha256(body) !== d.sha256) {
    throw new Error(`download of ${entry.name} from ${url}: checksum mismatch: expected sha256 ${d.sha256}, got ${sha256(body)}`);
  }
  if (d?.md5 !== undefined) {
    const md5 = createHash('md5').update(body).digest('hex');
    if (md5 !== d.md5) throw new Error(`download of ${entry.name} from ${url}: checksum mismatch: expected md5 ${d.md5}, got ${md5}`);
  }
  let content: Uint8Array = body;
  if (d?.gzip) {
    try {
      content = gunzipSync(body);
    } catch (err) {
      throw new Error(`download of ${entry.name} from ${url}: corrupt gzip data: ${(err as Error).message}`, { cause: err });
    }
  }
  verifyContent(content, entry, `download from ${url}`);
  try {
    writeFileAtomic(dest, content);
  } catch (err) {
    // Another process may have published the same verified file first; anything else stays.
    if (!holdsContent(dest, entry)) throw new Error(`download of ${entry.name} from ${url}: cannot cache it: ${(err as Error).message}`, { cause: err });
  }
  opts.log?.(`downloaded ${entry.name} from ${url} (${received} bytes), sha256 verified`);
  return content;
}
