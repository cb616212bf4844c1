import { defineStage, type AnyStageDef } from '@lth/artifacts';
import { setupTensorBackend } from '@lth/compute';
import { InstabilityConfig } from './config';
import { instability } from './instability';

/**
 * analysis/instability: linear mode connectivity of the weights at iteration k. Two copies
 * train from k to T with different data orders; loss and error are measured on the linear
 * path between them. See the package README for the wiring of dense and ticket analyses.
 */
export const instabilityStage = defineStage({
  id: 'analysis/instability',
  description:
    'Trains two copies from iteration k to T with different data orders and measures the error on the linear path between them (Frankle et al. 2020)',
  config: InstabilityConfig,
  inputs: {
    weights: {
      kind: 'tensors',
      description: "weights at k: a trainer's checkpoints (with config.iteration = k), one checkpoint, a rewound ticket, or an init (k = 0)",
    },
    data: { kind: 'dataset' },
    mask: { kind: 'tensors', optional: true, description: 'pruning mask: the copies train masked, and the path is masked' },
  },
  // Trains and evaluates with tensors: the backend is chosen once per process, before the first run.
  setup: setupTensorBackend,
  outputs: {
    path: { kind: 'table', description: 'one row per (alpha, split): label, k, alpha, split, loss, error; meta.info.instability per split' },
    instability: { kind: 'table', description: 'one row per split: the instability, endpoint and maximum errors, Pm, the copies final test accuracy' },
    copyA: { kind: 'metrics', description: 'metrics of copy A (k to T)' },
    copyB: { kind: 'metrics', description: 'metrics of copy B (k to T)' },
  },
  async run(ctx, cfg, inputs) {
    const r = await instability({ weights: inputs.weights, data: inputs.data, mask: inputs.mask }, cfg, {
      log: (m) => ctx.log(m),
      progress: (p) => ctx.progress(p),
      signal: ctx.signal,
    });
    return { path: r.path, instability: r.summary, copyA: r.copyA, copyB: r.copyB };
  },
});

export const stages: AnyStageDef[] = [instabilityStage];
