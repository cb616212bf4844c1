import type { Progress } from '@lth/artifacts';
import { loadRegistry } from '../definition/registry';
import { LocalStore } from '../cache/store';
import { runTask, type StageTask } from './task';

/**
 * Worker process of the ProcessExecutor: receives one task at a time over IPC, runs it with
 * the same registry (built-in packages + LTH_STAGE_MODULES from the inherited environment)
 * and commits the entry into the shared local store.
 */
export type ToWorker = { type: 'run'; task: StageTask; storeRoot: string } | { type: 'abort' };
export type FromWorker =
  | { type: 'log'; message: string }
  | ({ type: 'progress' } & Progress)
  | { type: 'done'; key: string }
  | { type: 'error'; message: string };

function send(m: FromWorker): void {
  process.send?.(m);
}

let abort: AbortController | undefined;

process.on('message', (m: ToWorker) => {
  if (m.type === 'abort') {
    abort?.abort();
    return;
  }
  abort = new AbortController();
  const registry = loadRegistry();
  const store = new LocalStore(m.storeRoot);
  runTask(m.task, registry, store, {
    signal: abort.signal,
    log: (message) => send({ type: 'log', message }),
    progress: (p) => send({ type: 'progress', ...p }),
  }).then(
    (entry) => send({ type: 'done', key: entry.key }),
    (err: unknown) => send({ type: 'error', message: err instanceof Error ? err.message : String(err) }),
  );
});
// Ctrl-C reaches the whole process group; the parent decides how to stop (it sends 'abort').
process.on('SIGINT', () => {});
process.on('disconnect', () => process.exit(0));
