import type { Progress, TaskTimings } from '@lth/artifacts';
import { LocalStore } from '../cache/store';
import { Registry } from '../definition/registry';
import { runTask, type StageTask } from './task';

/**
 * Worker process of the ProcessExecutor: receives one task at a time over IPC, with the
 * coordinator's stage module files, loads those it has not loaded yet (exactly those: nothing
 * comes from this process's environment), runs the task and commits the entry into the shared
 * local store.
 */
/**
 * `forkedAt` (Date.now() of the fork, in the coordinator): sent with a fresh worker's first task, to time its start-up.
 * `threads`: the stage's share of the cores (LTH_THREADS), also re-sent while it runs when other stages start or end.
 */
export type ToWorker =
  | { type: 'run'; task: StageTask; storeRoot: string; modules: string[]; threads?: string; forkedAt?: number }
  | { type: 'abort' }
  | { type: 'threads'; threads: string };
export type FromWorker =
  | { type: 'log'; message: string }
  | ({ type: 'progress' } & Progress)
  | { type: 'done'; key: string; timings?: TaskTimings }
  | { type: 'error'; message: string };

function send(m: FromWorker): void {
  process.send?.(m);
}

let abort: AbortController | undefined;
const registry = new Registry();

/** Loads the module files the coordinator registered; one that fails to load fails the task. */
function loadModules(modules: string[]): void {
  // A module's stage problems (a clash, a bad entry) were reported by the coordinator already.
  for (const file of modules) registry.load(file);
}

/**
 * The thread budget the executor gives the stage (threads.ts), as LTH_THREADS: the engine knows
 * no tensor package, and the tensor kernels read the variable on every large product, so a
 * new budget reaches a running stage at its next await.
 */
function setThreads(threads: string | undefined): void {
  if (threads !== undefined) process.env['LTH_THREADS'] = threads;
}

process.on('message', (m: ToWorker) => {
  if (m.type === 'abort') {
    abort?.abort();
    return;
  }
  if (m.type === 'threads') {
    setThreads(m.threads);
    return;
  }
  setThreads(m.threads);
  abort = new AbortController();
  // Both clocks are the wall clock: the coordinator's fork and this first message.
  const spawnMs = m.forkedAt === undefined ? 0 : Math.max(0, Date.now() - m.forkedAt);
  const store = new LocalStore(m.storeRoot);
  let modulesMs = 0;
  Promise.resolve()
    .then(() => {
      const t0 = performance.now();
      loadModules(m.modules);
      modulesMs = performance.now() - t0;
    })
    .then(() =>
      runTask(m.task, registry, store, {
        signal: (abort as AbortController).signal,
        log: (message) => send({ type: 'log', message }),
        progress: (p) => send({ type: 'progress', ...p }),
        startup: { spawnMs, modulesMs },
      }),
    )
    .then(
      (entry) => send({ type: 'done', key: entry.key, ...(entry.timings ? { timings: entry.timings } : {}) }),
      (err: unknown) => send({ type: 'error', message: err instanceof Error ? err.message : String(err) }),
    );
});
// Ctrl-C reaches the whole process group; the parent decides how to stop (it sends 'abort').
process.on('SIGINT', () => {});
process.on('disconnect', () => process.exit(0));
