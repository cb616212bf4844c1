import type { ArtifactStore, Entry } from '../cache/store';
import type { Registry } from '../definition/registry';
import type { Executor } from './executor';
import { runTask, type StageTask, type TaskHooks } from './task';

/**
 * Runs stages in this process (concurrently as promises; CPU-bound stages then take turns).
 * It runs any registered stage, also one added in code.
 */
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
