import { closeSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname, basename, join } from 'node:path';
import { mkdirSync } from 'node:fs';
import { type Field, RecordBatch, RecordBatchFileWriter, Schema, Struct, type Table, makeData, tableFromIPC, type DataType } from 'apache-arrow';
import { ArtifactError } from './errors';
import { hashBytes } from './hash';
import { checkIpcLayout } from './ipc-layout';

/** Arrow IPC file magic, at both ends of a complete file. */
const MAGIC = Buffer.from('ARROW1');

export const KIND_KEY = 'lth.kind';
export const VERSION_KEY = 'lth.version';
export const META_KEY = 'lth.meta';

/** Wraps column data (same length each) into a record batch of the given schema. */
export function makeBatch(schema: Schema, length: number, children: ReturnType<typeof makeData>[]): RecordBatch {
  const data = makeData({ type: new Struct(schema.fields as Field<DataType>[]), length, nullCount: 0, children });
  return new RecordBatch(schema, data);
}

/**
 * Writes batches as one Arrow IPC file. The bytes go to a temporary file beside the target,
 * which is fsynced and renamed into place: a reader never sees a half-written artifact.
 * The writer queues references to the batches' own buffers, so no serialized copy of the
 * whole file is ever built.
 */
export async function writeIpcFile(file: string, schema: Schema, batches: Iterable<RecordBatch>): Promise<void> {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = join(dirname(file), `.${basename(file)}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`);
  const fd = openSync(tmp, 'w');
  try {
    const writer = new RecordBatchFileWriter();
    writer.reset(undefined, schema);
    const drain = (async () => {
      for await (const chunk of writer) writeAll(fd, chunk);
    })();
    for (const batch of batches) writer.write(batch);
    writer.finish();
    writer.close();
    await drain;
    fsyncSync(fd);
    closeSync(fd);
    renameSync(tmp, file);
  } catch (err) {
    try {
      closeSync(fd);
    } catch {
      /* already closed */
    }
    rmSync(tmp, { force: true });
    throw err instanceof ArtifactError ? err : new ArtifactError(file, `cannot write: ${(err as Error).message}`, { cause: err });
  }
}

function writeAll(fd: number, chunk: Uint8Array): void {
  let off = 0;
  while (off < chunk.byteLength) off += writeSync(fd, chunk, off, chunk.byteLength - off);
}

export interface IpcRead {
  table: Table;
  kind: string;
  version: number;
  meta: unknown;
  sha256?: string;
}

/**
 * Reads an Arrow IPC file whole and checks that it is complete (magic at both ends), that its
 * sha256 matches when one is given, that its layout is sound (every length, offset and count
 * within the file; see ipc-layout.ts), and that it is an lth artifact. Column views returned by
 * Arrow point into the file's buffer, so reading costs one copy of the file.
 */
export function readIpcFile(file: string, opts: { sha256?: string } = {}): IpcRead {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (err) {
    throw new ArtifactError(file, `cannot read: ${(err as Error).message}`, { cause: err });
  }
  if (opts.sha256 !== undefined) {
    const actual = hashBytes(bytes);
    if (actual !== opts.sha256) {
      throw new ArtifactError(file, `content hash mismatch: expected sha256 ${opts.sha256}, file has ${actual} (corrupted or modified)`);
    }
  }
  if (bytes.byteLength < 2 * MAGIC.byteLength + 8 || !bytes.subarray(0, 6).equals(MAGIC)) {
    throw new ArtifactError(file, 'not an Arrow IPC file (missing ARROW1 magic at the start)');
  }
  if (!bytes.subarray(bytes.byteLength - 6).equals(MAGIC)) {
    throw new ArtifactError(file, 'truncated Arrow IPC file (missing ARROW1 magic at the end)');
  }
  let table: Table;
  try {
    // apache-arrow trusts every length and offset in the file; check them all first, so a
    // crafted or damaged file is refused instead of hanging the reader or exhausting the heap.
    // This runs with or without a sha256: a matching hash only says the file is the one written.
    checkIpcLayout(bytes);
    table = tableFromIPC(bytes);
  } catch (err) {
    throw new ArtifactError(file, `corrupted Arrow IPC file: ${(err as Error).message}`, { cause: err });
  }
  const md = table.schema.metadata;
  const kind = md.get(KIND_KEY);
  const versionText = md.get(VERSION_KEY);
  if (kind === undefined || versionText === undefined) {
    throw new ArtifactError(file, `not an lth artifact (schema metadata lacks ${KIND_KEY} / ${VERSION_KEY})`);
  }
  let meta: unknown;
  try {
    meta = JSON.parse(md.get(META_KEY) ?? '{}');
  } catch (err) {
    throw new ArtifactError(file, `metadata ${META_KEY} is not valid JSON`, { cause: err });
  }
  return { table, kind, version: Number(versionText), meta, sha256: opts.sha256 };
}

export function schemaWithMeta(fields: Field[], kind: string, version: number, meta: unknown): Schema {
  return new Schema(
    fields,
    new Map([
      [KIND_KEY, kind],
      [VERSION_KEY, String(version)],
      [META_KEY, JSON.stringify(meta)],
    ]),
  );
}
