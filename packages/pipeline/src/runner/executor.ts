import type { ArtifactStore, Entry } from '../cache/store';
import type { Plan } from '../definition/plan';
import type { StageTask, TaskHooks } from './task';

export type { ArtifactStore };

/**
 * Where a stage runs. The scheduler decides what runs and when, holds the cache locks and
 * reads the store; an executor only turns a task into a committed entry. One file per
 * strategy: in-process.ts, process.ts (worker processes). A distributed queue would implement
 * this with workers that share the store.
 */
export interface Executor {
  /** How many tasks it runs at once. */
  readonly slots: number;
  /**
   * Called before a run starts: throws (a UsageError, naming the stage) when the executor
   * cannot run one of the plan's stages, so that nothing starts that is bound to fail.
   */
  prepare?(plan: Plan): void;
  run(task: StageTask, hooks: TaskHooks): Promise<Entry>;
  close(): Promise<void>;
}
