import { z } from 'zod';
import { defineStage, type AnyStageDef } from '@lth/artifacts';
import { initWeights } from './init';
import { MODEL_NAMES, modelSpec } from './zoo';
import { exportStage } from './export-stage';

export const InitConfig = z
  .object({
    arch: z.enum(MODEL_NAMES),
    options: z.record(z.string(), z.unknown()).default({}),
    seed: z.number().int(),
  })
  .strict()
  // Options are checked against the architecture's own schema when the config is validated,
  // so a bad option fails before anything runs.
  .superRefine((cfg, ctx) => {
    try {
      modelSpec({ arch: cfg.arch, options: cfg.options });
    } catch (err) {
      ctx.addIssue({ code: 'custom', path: ['options'], message: (err as Error).message });
    }
  });
export type InitConfig = z.output<typeof InitConfig>;

export const initStage = defineStage({
  id: 'models/init',
  description: 'Seeded Gaussian Glorot initialization of a model from the zoo',
  config: InitConfig,
  inputs: {},
  outputs: { weights: { kind: 'tensors', description: 'initial weights w0 (content init)' } },
  async run(_ctx, cfg) {
    return { weights: initWeights({ arch: cfg.arch, options: cfg.options }, cfg.seed) };
  },
});

export const stages: AnyStageDef[] = [initStage, exportStage];
