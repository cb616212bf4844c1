import { Field, Float64, Int32, Utf8 } from 'apache-arrow';
import { z } from 'zod';
import { checkArtifact, fail, guardRead } from './check';
import { columnData, primitiveData, utf8Column, utf8Data } from './columns';
import { makeBatch, readIpcFile, schemaWithMeta, writeIpcFile } from './ipc';
import { WeightRole, type WeightRole as Role } from './tensors';

export const SPARSITY_KIND = 'sparsity';
export const SPARSITY_VERSION = 1;

export interface LayerSparsity {
  layer: string;
  role: Role;
  total: number;
  remaining: number;
  /** remaining / total (1 for an empty layer). */
  fraction: number;
}

export const SparsityMeta = z.object({
  /** Totals over the rows (the prunable tensors of the model). */
  total: z.number().int().nonnegative(),
  remaining: z.number().int().nonnegative(),
  fraction: z.number().min(0).max(1),
  info: z.record(z.string(), z.unknown()).optional(),
});
export type SparsityMeta = z.output<typeof SparsityMeta>;

export interface Sparsity {
  meta: SparsityMeta;
  layers: LayerSparsity[];
}

/** Builds a sparsity record from per-layer counts, computing fractions and totals. */
export function summarizeSparsity(
  layers: ReadonlyArray<Pick<LayerSparsity, 'layer' | 'role' | 'total' | 'remaining'>>,
  info?: Record<string, unknown>,
): Sparsity {
  const rows = layers.map((l) => ({ ...l, fraction: l.total === 0 ? 1 : l.remaining / l.total }));
  const total = rows.reduce((a, l) => a + l.total, 0);
  const remaining = rows.reduce((a, l) => a + l.remaining, 0);
  return { meta: { total, remaining, fraction: total === 0 ? 1 : remaining / total, ...(info ? { info } : {}) }, layers: rows };
}

export async function writeSparsity(file: string, s: Sparsity): Promise<void> {
  const meta = SparsityMeta.parse(s.meta);
  const sum = s.layers.reduce((a, l) => a + l.remaining, 0);
  if (sum !== meta.remaining) fail(file, `layer remaining counts sum to ${sum}, metadata says ${meta.remaining}`);
  const schema = schemaWithMeta(
    [
      new Field('layer', new Utf8(), false),
      new Field('role', new Utf8(), false),
      new Field('total', new Int32(), false),
      new Field('remaining', new Int32(), false),
      new Field('fraction', new Float64(), false),
    ],
    SPARSITY_KIND,
    SPARSITY_VERSION,
    meta,
  );
  const L = s.layers;
  await writeIpcFile(file, schema, [
    makeBatch(schema, L.length, [
      utf8Data(L.map((l) => l.layer)),
      utf8Data(L.map((l) => l.role)),
      primitiveData(
        new Int32(),
        Int32Array.from(L, (l) => l.total),
      ),
      primitiveData(
        new Int32(),
        Int32Array.from(L, (l) => l.remaining),
      ),
      primitiveData(
        new Float64(),
        Float64Array.from(L, (l) => l.fraction),
      ),
    ]),
  ]);
}

export function readSparsity(file: string, opts: { sha256?: string } = {}): Sparsity {
  return guardRead(file, () => {
    const read = readIpcFile(file, opts);
    const meta = checkArtifact(
      file,
      read,
      SPARSITY_KIND,
      SPARSITY_VERSION,
      [
        ['layer', 'Utf8'],
        ['role', 'Utf8'],
        ['total', 'Int32'],
        ['remaining', 'Int32'],
        ['fraction', 'Float64'],
      ],
      SparsityMeta,
    );
    const layers: LayerSparsity[] = [];
    for (const batch of read.table.batches) {
      const names = utf8Column(batch, 'layer');
      const roles = utf8Column(batch, 'role');
      const total = columnData(batch, 'total').values as Int32Array;
      const rem = columnData(batch, 'remaining').values as Int32Array;
      const frac = columnData(batch, 'fraction').values as Float64Array;
      for (let i = 0; i < batch.numRows; i++) {
        const role = WeightRole.safeParse(roles[i]);
        if (!role.success) fail(file, `layer '${names[i]}' has unknown role '${roles[i]}'`);
        layers.push({ layer: names[i] as string, role: role.data, total: total[i] as number, remaining: rem[i] as number, fraction: frac[i] as number });
      }
    }
    return { meta, layers };
  });
}
