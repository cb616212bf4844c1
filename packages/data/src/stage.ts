import { defineStage, type AnyStageDef } from '@lth/artifacts';
import { LoadConfig, loadDataset, type LoadReport } from './load';

/**
 * data/load: a dataset as a `dataset` artifact (uint8 pixels, train/validation/test rows,
 * train-split normalization statistics in its metadata). Network use is limited to fetching
 * files that are verified by their manifest sha256.
 */
export const loadStage = defineStage({
  id: 'data/load',
  description: 'Load MNIST, Fashion-MNIST, CIFAR-10 (or a synthetic set): verify, decode, hold out validation, normalization stats',
  config: LoadConfig,
  inputs: {},
  outputs: { dataset: { kind: 'dataset', description: 'train, validation and test rows with their normalization statistics' } },
  async run(ctx, cfg) {
    const report: LoadReport = { files: {} };
    const started = Date.now();
    const dataset = await loadDataset(
      cfg,
      {
        signal: ctx.signal,
        log: (m) => ctx.log(m),
        onProgress: (done, total) => ctx.progress({ done, total: total ?? done, message: `downloading ${cfg.dataset}` }),
      },
      report,
    );
    for (const [role, f] of Object.entries(report.files)) ctx.log(`${cfg.dataset} ${role}: ${f.origin} ${f.from}`);
    const { train, validation, test } = dataset.meta.splits;
    ctx.log(`${cfg.dataset}: ${train.count} train, ${validation.count} validation, ${test.count} test in ${Date.now() - started} ms`);
    return { dataset };
  },
});

export const stages: AnyStageDef[] = [loadStage];
