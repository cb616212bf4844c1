import type { RunPoint } from './runs';

/** What was run, as far as the caller knows it (the CLI passes the run record; the stage what metrics meta holds). */
export interface RunInfo {
  pipeline?: string;
  params?: Record<string, unknown>;
  /** tfjs backend(s) the runs trained on. */
  backend?: string | string[];
  startedAt?: string;
  finishedAt?: string;
  generatedAt?: string;
  /** Wall time of the whole pipeline run. */
  durationMs?: number;
  /** Sum of the training runs' durations (from the engine; older metrics artifacts: meta.durationMs). */
  trainingMs?: number;
  runs?: number;
  iterations?: number | number[];
  /** Stages that ran and that came from the cache. */
  stagesRun?: number;
  cacheHits?: number;
  stages?: { id: string; cached: boolean; durationMs?: number }[];
  notes?: string[];
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  if (m < 120) return `${m} min ${Math.round(s - m * 60)} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

const list = (v: string | number | (string | number)[]) => (Array.isArray(v) ? v.join(', ') : String(v));

/** The run information as (label, text) pairs, in a fixed order; absent fields are left out. */
export function runInfoLines(info: RunInfo): [string, string][] {
  const out: [string, string][] = [];
  if (info.pipeline) out.push(['Pipeline', info.pipeline]);
  if (info.params && Object.keys(info.params).length) {
    out.push([
      'Parameters',
      Object.entries(info.params)
        .map(([k, v]) => `${k} = ${JSON.stringify(v)}`)
        .join(', '),
    ]);
  }
  if (info.backend !== undefined && info.backend.length) out.push(['Backend', list(info.backend)]);
  if (info.startedAt) out.push(['Started', info.startedAt]);
  if (info.finishedAt) out.push(['Finished', info.finishedAt]);
  if (info.durationMs !== undefined) out.push(['Duration', formatDuration(info.durationMs)]);
  if (info.runs !== undefined) out.push(['Training runs', String(info.runs)]);
  if (info.iterations !== undefined) out.push(['Iterations per run', list(info.iterations)]);
  if (info.trainingMs !== undefined) out.push(['Training time (sum over runs)', formatDuration(info.trainingMs)]);
  if (info.stagesRun !== undefined || info.cacheHits !== undefined) {
    out.push(['Stages', `${info.stagesRun ?? '?'} ran, ${info.cacheHits ?? '?'} from the cache`]);
  }
  if (info.stages?.length) {
    const cached = info.stages.filter((s) => s.cached).map((s) => s.id);
    if (cached.length) out.push(['Cache hits', cached.join(', ')]);
  }
  if (info.generatedAt) out.push(['Report generated', info.generatedAt]);
  for (const n of info.notes ?? []) out.push(['Note', n]);
  return out;
}

/** What the runs' metrics meta tells about them: backends, iterations, training time. */
export function runInfoFromRuns(runs: readonly RunPoint[]): RunInfo {
  // A run shared as round 0 by several variants is one training run: count it once.
  const unique = [...new Set(runs.map((r) => r.metrics))];
  const backends = [...new Set(unique.map((m) => m.meta.backend).filter((b): b is string => !!b))].sort();
  const iterations = [...new Set(unique.map((m) => m.meta.iterations).filter((i): i is number => i !== undefined))].sort((a, b) => a - b);
  const durations = unique.map((m) => m.meta.durationMs).filter((d): d is number => d !== undefined);
  const info: RunInfo = { runs: unique.length };
  if (backends.length) info.backend = backends;
  if (iterations.length) info.iterations = iterations;
  if (durations.length) info.trainingMs = durations.reduce((a, b) => a + b, 0);
  return info;
}
