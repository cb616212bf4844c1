import { defineStage, type AnyStageDef } from '@lth/artifacts';
import { setupTensorBackend } from '@lth/compute';
import { TrainConfig } from './config';
import { train } from './train';

/** trainer/train: weights (+ optional mask) and a dataset in; trained weights, metrics, checkpoints out. */
export const trainStage = defineStage({
  id: 'trainer/train',
  description: 'Trains a model with masked Adam/SGD, evaluates along the way and records the early-stopping point',
  config: TrainConfig,
  inputs: {
    weights: { kind: 'tensors', description: 'starting weights (init, rewound, reinit or one checkpoint)' },
    data: { kind: 'dataset' },
    mask: { kind: 'tensors', optional: true, description: 'pruning mask; pruned weights stay exactly 0' },
  },
  // Trains with tensors: the backend is chosen once per process, before the first run.
  setup: setupTensorBackend,
  outputs: {
    weights: { kind: 'tensors', description: "final weights, content 'trained'" },
    metrics: { kind: 'metrics', description: 'loss/accuracy per evaluation; meta.earlyStop' },
    checkpoints: { kind: 'tensors', description: 'weights at the requested iterations (packCheckpoints)' },
  },
  async run(ctx, cfg, inputs) {
    const r = await train({ weights: inputs.weights, data: inputs.data, mask: inputs.mask }, cfg, {
      log: (m) => ctx.log(m),
      progress: (p) => ctx.progress(p),
      signal: ctx.signal,
    });
    // Where the time went, for the run record (timings.phases); wall-clock, so not in metrics.
    ctx.recordPhases?.({ ...r.timing.phases });
    ctx.log(
      `trainer/train: ${r.metrics.meta.iterations} iterations on ${r.metrics.meta.backend} in ${(r.timing.durationMs / 1000).toFixed(1)} s (${r.timing.msPerStep.toFixed(2)} ms/step)` +
        (r.metrics.meta.earlyStop
          ? `; early stop at ${r.metrics.meta.earlyStop.iteration}, test accuracy ${r.metrics.meta.earlyStop.testAccuracy.toFixed(4)}`
          : ''),
    );
    return { weights: r.weights, metrics: r.metrics, checkpoints: r.checkpoints };
  },
});

export const stages: AnyStageDef[] = [trainStage];
