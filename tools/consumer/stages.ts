// A stage of the consumer project. lth loads this module (compiled to out/stages.js) in the
// coordinator and in every worker process, and runs its stages like the built-in ones: cached
// by config, inputs and this module's code.
import { basename } from 'node:path';
import { defineStage } from '@lth/artifacts';
import { z } from 'zod';

export const maskDensity = defineStage({
  id: 'consumer/mask-density',
  description: 'how many weights each masked layer keeps, as a table',
  config: z.strictObject({ label: z.string().default('') }),
  inputs: { mask: { kind: 'tensors' } },
  outputs: { table: { kind: 'table' } },
  async run(ctx, cfg, inputs) {
    const ones = (values: Iterable<number>): number => {
      let n = 0;
      for (const v of values) n += v;
      return n;
    };
    const rows = inputs.mask.tensors.map((t) => ({
      layer: t.name,
      kept: ones(t.values),
      total: t.values.length,
      label: cfg.label,
      // The script this process runs: the engine's worker when stages run in worker processes.
      process: basename(process.argv[1] ?? ''),
    }));
    ctx.log(`${rows.length} layers`);
    const columns = [
      { name: 'layer', type: 'utf8' },
      { name: 'kept', type: 'float64' },
      { name: 'total', type: 'float64' },
      { name: 'label', type: 'utf8' },
      { name: 'process', type: 'utf8' },
    ] as const;
    return { table: { meta: { title: `mask density ${cfg.label}`, columns: [...columns] }, rows } };
  },
});

export const stages = [maskDensity];
