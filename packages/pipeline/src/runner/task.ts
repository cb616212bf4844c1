import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { hashFile, writeArtifact, type AnyStageDef, type Progress, type StageContext, type TaskTimings } from '@lth/artifacts';
import type { TaskInput } from '../cache/bind';
import type { KeyParts } from '../cache/key';
import type { Registry } from '../definition/registry';
import { describeContents, ENTRY_VERSION } from '../cache/entry';
import { entryFilesDir, FILES_DIR, outputFileName } from '../cache/layout';
import { readInput } from './read-inputs';
import type { ArtifactStore, Entry, EntryMeta, EntryOutput } from '../cache/store';

export type { TaskInput } from '../cache/bind';

/** Everything a worker needs to run one stage; plain JSON so it can cross a process boundary. */
export interface StageTask {
  id: string;
  uses: string;
  pipeline: string;
  /** The stage's `with` after interpolation; re-parsed by the stage schema where it runs. */
  rawConfig: unknown;
  key: string;
  parts: KeyParts;
  inputs: Record<string, TaskInput | TaskInput[]>;
}

export interface TaskHooks {
  signal: AbortSignal;
  log(message: string): void;
  progress(p: Progress): void;
  /** Start-up already spent in this process for this task (a worker: its spawn, the modules it loaded). */
  startup?: { spawnMs: number; modulesMs: number };
}

/**
 * Runs a stage and commits its cache entry: inputs are read with their hashes checked (a
 * dataset this process verified before is reused: read-inputs.ts), the
 * outputs are written into a staging directory that becomes the entry only when complete.
 */
export async function runTask(task: StageTask, registry: Registry, store: ArtifactStore, hooks: TaskHooks): Promise<Entry> {
  const reg = registry.get(task.uses);
  if (!reg) throw new Error(`stage '${task.uses}' is not registered in this process; registered: ${registry.ids().join(', ')}`);
  const { def } = reg;
  const staging = store.begin(task.key);
  const started = new Date();
  // Where the time goes (the run record's timings): performance.now() marks between phases.
  let mark = performance.now();
  const lap = () => {
    const now = performance.now();
    const ms = now - mark;
    mark = now;
    return ms;
  };
  // The backend's set-up (compiling tfjs-backend-wasm's module: ~0.4 s on a fresh worker) starts
  // before the inputs are read, so the compile runs on V8's background threads meanwhile.
  const backendReady = setUp(def);
  backendReady.catch(() => {}); // awaited below; a read error must not leave it unhandled
  try {
    const inputs: Record<string, unknown> = {};
    for (const [port, bound] of Object.entries(task.inputs)) {
      inputs[port] = Array.isArray(bound) ? bound.map((b) => readInput(b)) : readInput(bound);
    }
    const readMs = lap();
    const cfg = def.config.parse(task.rawConfig ?? {});
    const backend = await backendReady;
    const setupMs = lap();
    let phases: Record<string, number> | undefined;
    const inputTimings = Object.fromEntries(
      Object.entries(task.inputs).map(([p, b]) => [p, (Array.isArray(b) ? b : [b]).map((x) => ({ stage: x.stage, durationMs: x.computeMs ?? 0 }))]),
    );
    const outDir = entryFilesDir(staging.dir);
    const ctx: StageContext = {
      log: logAsCommitted(hooks.log, outDir, entryFilesDir(store.entryDir(task.key))),
      progress: hooks.progress,
      signal: hooks.signal,
      outDir,
      backend,
      inputTimings,
      recordPhases: (ms) => {
        phases = { ...ms };
      },
    };
    const produced = (await def.run(ctx, cfg, inputs as never)) as Record<string, unknown>;
    const runMs = lap();
    let writeMs = 0;
    let hashMs = 0;
    // A stage that completes despite an abort has valid outputs: they are committed, not lost.
    const outputs: Record<string, EntryOutput> = {};
    for (const [port, spec] of Object.entries(def.outputs)) {
      const value = produced?.[port];
      if (value === undefined || value === null) throw new Error(`${def.id} returned no value for output '${port}' (${spec.kind})`);
      const file = outputFileName(port);
      await writeArtifact(join(staging.dir, file), spec.kind, value as never);
      writeMs += lap();
      outputs[port] = { file, kind: spec.kind, sha256: await hashFile(join(staging.dir, file)), size: statSync(join(staging.dir, file)).size };
      hashMs += lap();
    }
    // Every file of the entry, outputs and extra files alike, is listed with its hash and size.
    const contents = await describeContents(staging.dir);
    const finished = new Date();
    const meta: EntryMeta = {
      version: ENTRY_VERSION,
      key: task.key,
      parts: task.parts,
      stage: task.uses,
      pipeline: task.pipeline,
      path: task.id,
      config: cfg,
      inputs: Object.fromEntries(Object.entries(task.inputs).map(([p, b]) => [p, Array.isArray(b) ? b.map(strip) : strip(b)])),
      outputs,
      ...(readdirSync(outDir).length ? { filesDir: FILES_DIR } : {}),
      contents,
      timings: { startedAt: started.toISOString(), finishedAt: finished.toISOString(), durationMs: finished.getTime() - started.getTime() },
      backend,
    };
    const entry = await staging.commit(meta);
    const timings: TaskTimings = {
      startup: { spawnMs: hooks.startup?.spawnMs ?? 0, modulesMs: hooks.startup?.modulesMs ?? 0, setupMs },
      io: { readMs, writeMs },
      runMs,
      ...(phases ? { phases } : {}),
      commitMs: hashMs + lap(),
    };
    return { ...entry, timings };
  } catch (err) {
    staging.abort();
    throw err;
  }
}

/** What each stage's setup reported, by definition: set up once per process. */
const prepared = new WeakMap<AnyStageDef, Promise<string>>();

/**
 * Runs the stage's `setup` once per process (a failed one is tried again next time) and
 * returns the backend it reported: 'none' for a stage that computes without tensors.
 */
function setUp(def: AnyStageDef): Promise<string> {
  let p = prepared.get(def);
  if (!p) {
    p = (def.setup ? def.setup() : Promise.resolve()).then((s) => (s && s.backend) || 'none');
    prepared.set(def, p);
    p.catch(() => prepared.delete(def));
  }
  return p;
}

/**
 * A stage names its extra files by ctx.outDir, a staging directory that is renamed into the
 * cache when the stage completes and so never exists after the run. Its log lines name the
 * entry's own files directory instead (what the run record names too), for every stage.
 */
function logAsCommitted(log: (message: string) => void, stagingFiles: string, finalFiles: string): (message: string) => void {
  return (message) => log(message.split(stagingFiles).join(finalFiles));
}

function strip(b: TaskInput) {
  return { stage: b.stage, port: b.port, sha256: b.sha256 };
}
