import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { confinedPath, type Progress, type RunRecord, type StageOutcome, type StageRecord, type StageTimings } from '@lth/artifacts';
import { RunRegistration } from '../cache/active';
import { bindInputs } from '../cache/bind';
import { packageVersions, writeRunRecord } from '../cache/record';
import type { ArtifactStore, Entry } from '../cache/store';
import { StageError } from '../definition/errors';
import { isForced } from '../definition/force';
import type { Plan, PlanNode } from '../definition/plan';
import type { Executor } from './executor';
import { MissExplainer } from './explain';
import { reportLocation } from './report-location';
import type { StageTask } from './task';

/** Where a stage is in a run: not started, waiting for a lock, running, or its outcome. */
export type StageState = 'pending' | 'waiting' | 'running' | StageOutcome;

export type RunEvent =
  | {
      type: 'stage';
      id: string;
      uses: string;
      state: StageState;
      why?: string;
      error?: string;
      /** state 'ran': how long the stage itself ran (its entry's timing). */ durationMs?: number;
    }
  | { type: 'progress'; id: string; progress: Progress }
  | { type: 'log'; id: string; message: string }
  | { type: 'problem'; message: string };

export interface RunOptions {
  store: ArtifactStore;
  executor: Executor;
  /** Expanded stage ids, or source names (`train` matches `round[*].train`), to recompute. */
  force?: readonly string[];
  signal?: AbortSignal;
  onEvent?: (e: RunEvent) => void;
  /** Write the run record under `<store.root>/runs` (default true). */
  writeRecord?: boolean;
}

/**
 * Runs a validated plan: each stage whose inputs are ready is looked up in the cache by its
 * key, and on a miss computed under the key's lock (a concurrent process computing the same
 * key makes us wait, then hit). Failures skip only their dependents; everything committed
 * stays in the cache, so a rerun resumes.
 */
export async function runPipeline(plan: Plan, opts: RunOptions): Promise<RunRecord> {
  const { store, executor } = opts;
  // Refusals (a stage this executor cannot run) come before anything starts.
  executor.prepare?.(plan);
  const emit = opts.onEvent ?? (() => {});
  const signal = opts.signal ?? new AbortController().signal;
  const explainer = new MissExplainer(store);
  const started = new Date();
  const entries = new Map<string, Entry>();
  const records = new Map<string, StageRecord>();
  const byId = new Map(plan.nodes.map((n) => [n.id, n]));
  let running = 0;
  const waiters: Array<() => void> = [];
  const slot = async () => {
    while (running >= Math.max(1, executor.slots)) await new Promise<void>((r) => waiters.push(r));
    running++;
  };
  const freeSlot = () => {
    running--;
    waiters.shift()?.();
  };

  for (const n of plan.nodes) emit({ type: 'stage', id: n.id, uses: n.uses, state: 'pending' });
  const registration = new RunRegistration(store.root, plan.name);
  if (registration.problem) emit({ type: 'problem', message: registration.problem });

  const finish = (node: PlanNode, rec: Omit<StageRecord, 'id' | 'uses' | 'inputs'>) => {
    records.set(node.id, { id: node.id, uses: node.uses, inputs: node.inputs, ...rec });
  };

  type Resolved = { entry: Entry; key: string; status: 'ran' | 'cached'; why: string };
  /** The scheduler's share of a stage's timings, summed over its resolve (and any re-resolve). */
  type Clock = { keyMs: number; lookupMs: number; lockMs: number; queueMs: number };
  const timed = async <T>(clock: Clock, field: keyof Clock, work: () => Promise<T> | T): Promise<T> => {
    const t0 = performance.now();
    try {
      return await work();
    } finally {
      clock[field] += performance.now() - t0;
    }
  };

  /**
   * The entry of `node`: from the cache (verified, and pinned for this run) or computed under
   * the key's lock. Its inputs are the entries already resolved for its dependencies; one that
   * vanished meanwhile (possible only where pinning is impossible) is resolved again.
   */
  const resolve = async (node: PlanNode, clock: Clock, depth = 0): Promise<Resolved> => {
    for (const d of node.deps) {
      const e = entries.get(d);
      if (e && !existsSync(e.dir) && depth < 8) {
        emit({ type: 'problem', message: `cache entry ${e.key.slice(0, 12)} of ${d} vanished while in use; resolving it again` });
        entries.set(d, (await resolve(byId.get(d) as PlanNode, clock, depth + 1)).entry);
      }
    }
    // entries holds this run's pinned copies (when links work): exactly the verified files.
    const { inputs, parts, key } = await timed(clock, 'keyMs', () => bindInputs(node, (id) => entries.get(id)));
    // Registered before the lookup, so that a concurrent gc keeps this entry.
    registration.use(key);
    const forced = isForced(node.id, opts.force ?? []) && depth === 0;
    // Corrupt entries are repaired only under the key's lock, so that a process never moves
    // aside an entry another process has just recomputed.
    let entry = forced ? undefined : await timed(clock, 'lookupMs', () => store.get(key, { repair: false, pinTo: registration.pins }));
    if (entry) return { entry, key, status: 'cached', why: 'cache hit' };
    const why = forced ? 'forced (--force)' : explainer.why(plan.name, node.id, parts);
    const release = await timed(clock, 'lockMs', () =>
      store.lock(key, {
        signal,
        onWait: () => emit({ type: 'stage', id: node.id, uses: node.uses, state: 'waiting', why: 'another process is computing this entry' }),
      }),
    );
    try {
      // Whoever held the lock may have just committed this very entry.
      entry = forced ? undefined : await timed(clock, 'lookupMs', () => store.get(key, { pinTo: registration.pins }));
      if (entry) return { entry, key, status: 'cached', why: 'cache hit (computed by another process)' };
      await timed(clock, 'queueMs', slot);
      try {
        emit({ type: 'stage', id: node.id, uses: node.uses, state: 'running', why });
        const task: StageTask = { id: node.id, uses: node.uses, pipeline: plan.name, rawConfig: node.rawConfig, key, parts, inputs };
        entry = await executor.run(task, {
          signal,
          log: (message) => emit({ type: 'log', id: node.id, message }),
          progress: (progress) => emit({ type: 'progress', id: node.id, progress }),
        });
      } finally {
        freeSlot();
      }
      // Still under the lock: nobody can have replaced what was just committed and verified.
      const computed = entry;
      return { entry: await timed(clock, 'lookupMs', () => store.pin(computed, registration.pins)), key, status: 'ran', why };
    } finally {
      release();
    }
  };

  const process1 = async (node: PlanNode): Promise<void> => {
    const t0 = Date.now();
    const bad = node.deps.filter((d) => records.get(d)?.status === 'failed' || records.get(d)?.status === 'skipped');
    if (bad.length || signal.aborted) {
      const why = signal.aborted ? 'interrupted before it started' : `input stage ${bad.join(', ')} did not complete`;
      finish(node, { status: 'skipped', durationMs: 0, cacheKey: null, why, outputs: {} });
      emit({ type: 'stage', id: node.id, uses: node.uses, state: 'skipped', why });
      return;
    }
    const clock: Clock = { keyMs: 0, lookupMs: 0, lockMs: 0, queueMs: 0 };
    try {
      const { entry, key, status, why } = await resolve(node, clock);
      entries.set(node.id, entry);
      const durationMs = Date.now() - t0;
      // The record names the entry's own files (pins are removed when the run ends).
      const at = store.entryDir(key);
      finish(node, {
        status,
        durationMs,
        computeMs: entry.meta.timings.durationMs,
        cacheKey: key,
        why,
        outputs: outputsOf(at, entry),
        files: filesOf(at, entry),
        backend: entry.meta.backend,
        timings: stageTimings(clock, status === 'ran' ? entry.timings : undefined),
      });
      // The progress line shows how long the stage itself ran: durationMs (in the record) also
      // counts the wait for a free slot or another process's lock, which made a 0.1 s reset
      // that waited behind two trainings print as 70 s.
      emit({ type: 'stage', id: node.id, uses: node.uses, state: status, why, ...(status === 'ran' ? { durationMs: entry.meta.timings.durationMs } : {}) });
    } catch (err) {
      const reason = signal.aborted ? 'interrupted' : err instanceof Error ? err.message : String(err);
      const e = new StageError(node.id, reason, { cause: err });
      finish(node, { status: 'failed', durationMs: Date.now() - t0, cacheKey: null, why: reason, error: e.message, outputs: {} });
      emit({ type: 'stage', id: node.id, uses: node.uses, state: 'failed', error: e.message, durationMs: Date.now() - t0 });
    }
  };

  // Each stage waits for its dependencies' promises; the slot semaphore bounds parallelism.
  const done = new Map<string, Promise<void>>();
  try {
    for (const node of plan.nodes) {
      const deps = node.deps.map((d) => done.get(d) ?? Promise.resolve());
      done.set(
        node.id,
        Promise.all(deps).then(() => process1(node)),
      );
    }
    await Promise.all(done.values());
  } finally {
    registration.end();
  }

  const stages = plan.nodes.map((n) => records.get(n.id) as StageRecord);
  const finished = new Date();
  // 'none': a stage that computes without tensors says nothing about the backend.
  const tensorBackend = (s: StageRecord) => (s.backend && s.backend !== 'none' ? s.backend : '');
  const backends = [...new Set(stages.filter((s) => s.status === 'ran').map(tensorBackend))].filter(Boolean);
  const cachedBackends = [...new Set(stages.map(tensorBackend))].filter(Boolean);
  const rec: RunRecord = {
    version: 1,
    name: plan.name,
    file: plan.file,
    status: signal.aborted ? 'interrupted' : stages.some((s) => s.status === 'failed' || s.status === 'skipped') ? 'failed' : 'ok',
    startedAt: started.toISOString(),
    finishedAt: finished.toISOString(),
    durationMs: finished.getTime() - started.getTime(),
    cacheDir: store.root,
    backend: (backends.length ? backends : cachedBackends).join(', ') || 'none',
    versions: packageVersions(plan.nodes.map((n) => n.code)),
    params: plan.params,
    pipeline: plan.nodes.map((n) => ({ id: n.id, uses: n.uses, config: n.config, inputs: n.inputs })),
    stages,
    report: reportLocation(stages),
  };
  if (opts.writeRecord !== false) {
    // The run's work is done and cached: a record that cannot be written (read-only cache, full
    // disk) is reported, not fatal, and the summary is still printed from `rec`.
    try {
      writeRunRecord(store.root, rec);
    } catch (err) {
      rec.recordError = err instanceof Error ? err.message : String(err);
      emit({ type: 'problem', message: rec.recordError });
    }
  }
  return rec;
}

/** The record's timings: the scheduler's clock plus, for a stage that ran, what its task measured. */
function stageTimings(clock: { keyMs: number; lookupMs: number; lockMs: number; queueMs: number }, task: Entry['timings']): StageTimings {
  const cache = { keyMs: clock.keyMs, lookupMs: clock.lookupMs + (task?.verifyMs ?? 0), lockMs: clock.lockMs };
  const t: StageTimings = !task
    ? { cache }
    : {
        cache: { ...cache, commitMs: task.commitMs },
        queueMs: clock.queueMs,
        startup: task.startup,
        io: task.io,
        runMs: task.runMs,
        ...(task.phases ? { phases: task.phases } : {}),
      };
  return tenthsOfMs(t);
}

/** Every number rounded to 0.1 ms: what a reader of the record can use, without float noise. */
function tenthsOfMs<T>(v: T): T {
  if (typeof v === 'number') return (Math.round(v * 10) / 10) as T;
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, tenthsOfMs(x)])) as T;
  return v;
}

function outputsOf(dir: string, e: Entry): Record<string, string> {
  return Object.fromEntries(Object.entries(e.meta.outputs).map(([p, o]) => [p, confinedPath(dir, o.file, `cache entry ${e.key.slice(0, 12)} output '${p}'`)]));
}

function filesOf(dir: string, e: Entry): string | undefined {
  return e.meta.filesDir ? join(dir, e.meta.filesDir) : undefined;
}
