import { Field, Float64, Int32, Utf8 } from 'apache-arrow';
import { z } from 'zod';
import { checkArtifact, fail, guardRead } from './check';
import { columnData, primitiveData, utf8Column, utf8Data } from './columns';
import { makeBatch, readIpcFile, schemaWithMeta, writeIpcFile } from './ipc';

export const METRICS_KIND = 'metrics';
export const METRICS_VERSION = 1;

export const MetricSplit = z.enum(['train', 'validation', 'test']);
export interface MetricRow {
  iteration: number;
  split: z.output<typeof MetricSplit>;
  loss: number;
  accuracy: number;
}

/** The paper's early-stopping point: minimum validation loss, and the test accuracy there. */
export const EarlyStop = z.object({
  iteration: z.number().int().nonnegative(),
  validationLoss: z.number(),
  validationAccuracy: z.number(),
  testAccuracy: z.number(),
});
export type EarlyStop = z.output<typeof EarlyStop>;

export const MetricsMeta = z.looseObject({
  earlyStop: EarlyStop.optional(),
  /** The last iteration, T. */
  iterations: z.number().int().nonnegative().optional(),
  /** The first iteration trained when it is not 0 (weights rewound to w_k train from k to T). */
  startIteration: z.number().int().nonnegative().optional(),
  backend: z.string().optional(),
  /** Fraction of prunable weights remaining in the trained network (1 when dense). */
  remaining: z.number().min(0).max(1).optional(),
  durationMs: z.number().nonnegative().optional(),
});
export type MetricsMeta = z.output<typeof MetricsMeta>;

/** One row per evaluation of one split during training. */
export interface Metrics {
  meta: MetricsMeta;
  rows: MetricRow[];
}

function schema(meta: MetricsMeta) {
  return schemaWithMeta(
    [
      new Field('iteration', new Int32(), false),
      new Field('split', new Utf8(), false),
      new Field('loss', new Float64(), false),
      new Field('accuracy', new Float64(), false),
    ],
    METRICS_KIND,
    METRICS_VERSION,
    meta,
  );
}

export async function writeMetrics(file: string, m: Metrics): Promise<void> {
  const meta = MetricsMeta.parse(m.meta);
  for (const r of m.rows) {
    if (!MetricSplit.safeParse(r.split).success) fail(file, `metric row at iteration ${r.iteration} has unknown split '${r.split}'`);
  }
  const s = schema(meta);
  const batch = makeBatch(s, m.rows.length, [
    primitiveData(
      new Int32(),
      Int32Array.from(m.rows, (r) => r.iteration),
    ),
    utf8Data(m.rows.map((r) => r.split)),
    primitiveData(
      new Float64(),
      Float64Array.from(m.rows, (r) => r.loss),
    ),
    primitiveData(
      new Float64(),
      Float64Array.from(m.rows, (r) => r.accuracy),
    ),
  ]);
  await writeIpcFile(file, s, [batch]);
}

export function readMetrics(file: string, opts: { sha256?: string } = {}): Metrics {
  return guardRead(file, () => {
    const read = readIpcFile(file, opts);
    const meta = checkArtifact(
      file,
      read,
      METRICS_KIND,
      METRICS_VERSION,
      [
        ['iteration', 'Int32'],
        ['split', 'Utf8'],
        ['loss', 'Float64'],
        ['accuracy', 'Float64'],
      ],
      MetricsMeta,
    );
    const rows: MetricRow[] = [];
    for (const batch of read.table.batches) {
      const it = columnData(batch, 'iteration').values as Int32Array;
      const loss = columnData(batch, 'loss').values as Float64Array;
      const acc = columnData(batch, 'accuracy').values as Float64Array;
      const splits = utf8Column(batch, 'split');
      for (let i = 0; i < batch.numRows; i++) {
        const split = MetricSplit.safeParse(splits[i]);
        if (!split.success) fail(file, `row ${i}: unknown split '${splits[i]}'`);
        rows.push({ iteration: it[i] as number, split: split.data, loss: loss[i] as number, accuracy: acc[i] as number });
      }
    }
    return { meta, rows };
  });
}
