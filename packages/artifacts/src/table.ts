import { Field, Float64, Utf8, vectorFromArray, type Data, type DataType } from 'apache-arrow';
import { z } from 'zod';
import { checkArtifact, fail, guardRead } from './check';
import { makeBatch, readIpcFile, schemaWithMeta, writeIpcFile } from './ipc';

export const TABLE_KIND = 'table';
export const TABLE_VERSION = 1;

/**
 * A generic table of named number or string columns (nullable): report summaries, sweep
 * trials. The column list with its types is part of the metadata so an empty table round-trips.
 */
export const TableColumn = z.object({ name: z.string().min(1), type: z.enum(['float64', 'utf8']) });
export const TableMeta = z.object({
  title: z.string(),
  columns: z.array(TableColumn),
  info: z.record(z.string(), z.unknown()).optional(),
});
export type TableMeta = z.output<typeof TableMeta>;
export type TableCell = number | string | null;
export interface TableArtifact {
  meta: TableMeta;
  rows: Record<string, TableCell>[];
}

export async function writeTable(file: string, t: TableArtifact): Promise<void> {
  const meta = TableMeta.parse(t.meta);
  const fields = meta.columns.map((c) => new Field(c.name, c.type === 'float64' ? new Float64() : new Utf8(), true));
  const schema = schemaWithMeta(fields, TABLE_KIND, TABLE_VERSION, meta);
  const children = meta.columns.map((c) => {
    const cells = t.rows.map((r, i) => {
      const v = r[c.name] ?? null;
      if (v !== null && typeof v !== (c.type === 'float64' ? 'number' : 'string')) {
        fail(file, `row ${i}, column '${c.name}': ${JSON.stringify(v)} is not ${c.type}`);
      }
      return v;
    });
    return vectorFromArray(cells as never[], c.type === 'float64' ? new Float64() : new Utf8()).data[0] as Data<DataType>;
  });
  await writeIpcFile(file, schema, [makeBatch(schema, t.rows.length, children)]);
}

export function readTable(file: string, opts: { sha256?: string } = {}): TableArtifact {
  return guardRead(file, () => {
    const read = readIpcFile(file, opts);
    const meta = checkArtifact(file, read, TABLE_KIND, TABLE_VERSION, [], TableMeta);
    const rows: Record<string, TableCell>[] = [];
    for (const batch of read.table.batches) {
      const cols = meta.columns.map((c) => {
        const v = batch.getChild(c.name);
        if (!v) fail(file, `missing column '${c.name}'`);
        return [c.name, v] as const;
      });
      for (let i = 0; i < batch.numRows; i++) {
        const row: Record<string, TableCell> = {};
        for (const [name, v] of cols) row[name] = (v.get(i) ?? null) as TableCell;
        rows.push(row);
      }
    }
    return { meta, rows };
  });
}
