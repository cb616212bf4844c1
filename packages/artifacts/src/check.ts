import type { Schema } from 'apache-arrow';
import type { z } from 'zod';
import { ArtifactError } from './errors';
import type { IpcRead } from './ipc';

/** The columns a kind expects: name and Arrow type as printed by `DataType.toString()`. */
export type ExpectedColumns = ReadonlyArray<readonly [name: string, type: string | RegExp]>;

/**
 * Checks that a read file is the expected kind, at a version this code understands, with the
 * expected columns, and parses its metadata with the kind's zod schema. Returns the metadata.
 */
export function checkArtifact<M extends z.ZodType>(
  file: string,
  read: IpcRead,
  kind: string,
  version: number,
  columns: ExpectedColumns,
  metaSchema: M,
): z.output<M> {
  if (read.kind !== kind) throw new ArtifactError(file, `is a '${read.kind}' artifact, expected '${kind}'`);
  if (!Number.isInteger(read.version) || read.version < 1) {
    throw new ArtifactError(file, `invalid lth.version '${read.version}'`);
  }
  if (read.version > version) {
    throw new ArtifactError(file, `'${kind}' artifact version ${read.version} is newer than this lth supports (${version}); upgrade lth to read it`);
  }
  checkColumns(file, read.table.schema, columns);
  const parsed = metaSchema.safeParse(read.meta);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new ArtifactError(file, `invalid '${kind}' metadata: ${issues}`);
  }
  return parsed.data;
}

function checkColumns(file: string, schema: Schema, columns: ExpectedColumns): void {
  for (const [name, type] of columns) {
    const field = schema.fields.find((f) => f.name === name);
    if (!field) throw new ArtifactError(file, `missing column '${name}'`);
    const actual = field.type.toString();
    const ok = typeof type === 'string' ? actual === type : type.test(actual);
    if (!ok) throw new ArtifactError(file, `column '${name}' has type ${actual}, expected ${String(type)}`);
  }
}

export function fail(file: string, problem: string): never {
  throw new ArtifactError(file, problem);
}

/**
 * Runs a kind's reader so that whatever goes wrong is an ArtifactError naming the file: the
 * layout check bounds the work, and this keeps a value that slipped through it (a type error
 * on a damaged column) from surfacing as a bare TypeError without the file's name.
 */
export function guardRead<T>(file: string, read: () => T): T {
  try {
    return read();
  } catch (err) {
    if (err instanceof ArtifactError) throw err;
    throw new ArtifactError(file, `cannot read artifact: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
}
