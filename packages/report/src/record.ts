import { readArtifact, type Metrics, type RunRecord, type Sparsity, type StageRecord } from '@lth/artifacts';
import { ReportConfig } from './config';
import { lotteryReport, type RenderedReport } from './report';
import type { RunInfo } from './runinfo';
import type { LotteryInputs } from './runs';

/**
 * The part of a run record (RunRecord of @lth/artifacts, written by the pipeline engine) that
 * a report reads: the pipeline's bindings and each stage's outcome and outputs, and the
 * run's dates, backend, parameters and versions when present.
 */
export type ReportedRun = Pick<RunRecord, 'name' | 'pipeline'> &
  Partial<Pick<RunRecord, 'startedAt' | 'finishedAt' | 'durationMs' | 'backend' | 'params' | 'versions'>> & {
    /** computeMs: how long the stage took when its entry was computed (a cached stage's too). */
    stages: Array<Pick<StageRecord, 'id' | 'status' | 'outputs'> & Partial<Pick<StageRecord, 'uses' | 'durationMs' | 'computeMs'>>>;
  };

/** Dates, durations, backend, parameters and cache hits of a finished run. */
export function runInfoFromRecord(rec: ReportedRun): RunInfo {
  const ran = rec.stages.filter((s) => s.status === 'ran');
  const cached = rec.stages.filter((s) => s.status === 'cached');
  const info: RunInfo = {
    pipeline: rec.name,
    stagesRun: ran.length,
    cacheHits: cached.length,
    stages: rec.stages.map((s) => ({ id: s.id, cached: s.status === 'cached', ...(s.durationMs !== undefined ? { durationMs: s.durationMs } : {}) })),
  };
  if (rec.params) info.params = rec.params;
  if (rec.backend) info.backend = rec.backend;
  if (rec.startedAt) info.startedAt = rec.startedAt;
  if (rec.finishedAt) info.finishedAt = rec.finishedAt;
  if (rec.durationMs !== undefined) info.durationMs = rec.durationMs;
  // Training time lives in the run record (metrics artifacts hold no wall-clock fields).
  const training = rec.stages.filter((s) => s.uses === 'trainer/train' && s.computeMs !== undefined);
  if (training.length) info.trainingMs = training.reduce((a, s) => a + (s.computeMs ?? 0), 0);
  if (rec.versions && Object.keys(rec.versions).length) {
    info.notes = [
      `versions: ${Object.entries(rec.versions)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')}`,
    ];
  }
  return info;
}

const PORT_KINDS = { tickets: 'metrics', dense: 'metrics', ticketSparsity: 'sparsity', reinit: 'metrics', randomPrune: 'metrics', compare: 'metrics' } as const;

/**
 * Re-renders every report/lottery stage of a finished run with the whole run record (which the
 * stage itself cannot see while the run is going): what `lth report` does. Each report is
 * written into outDir, in a sub-directory per report stage when there are several.
 */
export async function reportFromRunRecord(rec: ReportedRun, outDir: string): Promise<(RenderedReport & { id: string; files: string[] })[]> {
  const nodes = rec.pipeline.filter((n) => n.uses === 'report/lottery');
  if (nodes.length === 0) throw new Error(`run record of '${rec.name}': no report/lottery stage in the pipeline`);
  const outputs = new Map(rec.stages.map((s) => [s.id, s.outputs]));
  const info = runInfoFromRecord(rec);
  const out = [];
  for (const node of nodes) {
    const inputs: Record<string, (Metrics | Sparsity)[]> = {};
    for (const [port, kind] of Object.entries(PORT_KINDS)) {
      const bound = node.inputs[port];
      if (bound === undefined) continue;
      inputs[port] = (Array.isArray(bound) ? bound : [bound]).map((b) => {
        const file = outputs.get(b.stage)?.[b.port];
        if (!file) throw new Error(`run record of '${rec.name}': ${node.id}.${port} is bound to ${b.stage}.${b.port}, which has no output file in the record`);
        return readArtifact(file, kind);
      });
    }
    const cfg = ReportConfig.parse(node.config ?? {});
    const dir = nodes.length > 1 ? `${outDir}/${node.id.replace(/[^\w.-]+/g, '_')}` : outDir;
    const r = await lotteryReport(inputs as unknown as LotteryInputs, cfg, { outDir: dir, runInfo: { ...info, generatedAt: new Date().toISOString() } });
    out.push({ ...r, id: node.id });
  }
  return out;
}
