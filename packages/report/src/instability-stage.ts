import { defineStage } from '@lth/artifacts';
import { InstabilityReportConfig } from './instability-data';
import { instabilityReport } from './instability-report';

/**
 * report/instability: the instability analysis's plots and table from analysis/instability
 * outputs (gathered across a matrix over k), plus the IMP tickets' accuracy by rewind iteration.
 */
export const reportInstability = defineStage({
  id: 'report/instability',
  description: 'Instability analysis report: error along the linear path per k, instability vs k, IMP ticket accuracy vs rewind iteration',
  config: InstabilityReportConfig,
  inputs: {
    instability: { kind: 'table', many: true, description: "analysis/instability 'instability' tables" },
    paths: { kind: 'table', many: true, optional: true, description: "analysis/instability 'path' tables (the path plot)" },
    tickets: { kind: 'metrics', many: true, optional: true, description: 'IMP tickets trained from their rewind iteration k (accuracy vs rewind iteration)' },
    dense: { kind: 'metrics', many: true, optional: true, description: 'the dense run (reference accuracy)' },
  },
  outputs: {
    summary: { kind: 'table', description: 'one row per (network, k, split): instability, endpoint and maximum errors, Pm' },
  },
  async run(ctx, cfg, inputs) {
    const r = await instabilityReport(inputs, cfg, { outDir: ctx.outDir, runInfo: { generatedAt: new Date().toISOString() } });
    ctx.log(`report/instability: ${r.table.rows.length} rows, wrote ${r.files.join(', ')}`);
    return { summary: r.table };
  },
});
