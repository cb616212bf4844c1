import type { Readable } from 'node:stream';

/**
 * Where remote entries live: a flat namespace of objects named `blobs/<sha256>` (file
 * contents, by content) and `entries/<key>.json` (the manifest that makes an entry exist).
 * Every put is whole-or-nothing for readers: a reader sees the old object, the new one, or
 * none, never a part (rename on a filesystem, a single PUT on S3).
 */
export interface RemoteBackend {
  /** The location without credentials, for messages. */
  readonly where: string;
  /** The object's size in bytes, or undefined when it does not exist. */
  size(name: string): Promise<number | undefined>;
  /** The object's bytes as a stream, or undefined when it does not exist. */
  read(name: string): Promise<Readable | undefined>;
  putFile(name: string, file: string): Promise<void>;
  putText(name: string, text: string): Promise<void>;
  /** Removes the object; no error when it does not exist. */
  remove(name: string): Promise<void>;
}

const NAME_RE = /^(blobs\/[0-9a-f]{64}|entries\/[0-9a-f]{64}\.json)$/;

/** Object names are built by the store from checked hashes; anything else is a bug, refused. */
export function checkObjectName(name: string): string {
  if (!NAME_RE.test(name)) throw new Error(`not a remote object name: '${name.slice(0, 100)}'`);
  return name;
}

export async function readAll(stream: Readable, maxBytes: number, what: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of stream) {
    const b = Buffer.isBuffer(c) ? c : Buffer.from(c as Uint8Array);
    n += b.length;
    if (n > maxBytes) {
      stream.destroy();
      throw new Error(`${what} is larger than ${maxBytes} bytes`);
    }
    chunks.push(b);
  }
  return Buffer.concat(chunks);
}
