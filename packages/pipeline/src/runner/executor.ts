import type { Registry } from '../definition/registry';
import type { ArtifactStore, Entry } from '../cache/store';
import { runTask, type StageTask, type TaskHooks } from './task';

/**
 * Where a stage runs. The scheduler decides what runs and when, holds the cache locks and
 * reads the store; an executor only turns a task into a committed entry. A distributed
 * queue would implement this with workers that share the store.
 */
export interface Executor {
  /** How many tasks it runs at once. */
  readonly slots: number;
  run(task: StageTask, hooks: TaskHooks): Promise<Entry>;
  close(): Promise<void>;
}

/** Runs stages in this process (concurrently as promises; CPU-bound stages then take turns). */
export class InProcessExecutor implements Executor {
  constructor(
    private readonly registry: Registry,
    private readonly store: ArtifactStore,
    readonly slots = 1,
  ) {}

  run(task: StageTask, hooks: TaskHooks): Promise<Entry> {
    return runTask(task, this.registry, this.store, hooks);
  }

  async close(): Promise<void> {}
}
