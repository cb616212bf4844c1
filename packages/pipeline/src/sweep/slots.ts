import type { Executor } from '../runner/executor';
import type { TaskHooks, StageTask } from '../runner/task';
import type { Entry } from '../cache/store';

/**
 * Bounds the stages of all concurrent trials together by the executor's slots: each trial's
 * runPipeline only counts its own stages, and the process executor forks a new worker for
 * every concurrent task, so `parallel` trials would otherwise run parallel × jobs stages.
 */
export class SharedSlots implements Executor {
  private busy = 0;
  private readonly waiters: Array<() => void> = [];

  constructor(private readonly inner: Executor) {}

  get slots(): number {
    return this.inner.slots;
  }

  async run(task: StageTask, hooks: TaskHooks): Promise<Entry> {
    while (this.busy >= Math.max(1, this.inner.slots)) await new Promise<void>((r) => this.waiters.push(r));
    // Interrupted while queued behind another trial's stage: do not start it.
    if (hooks.signal.aborted) {
      this.waiters.shift()?.();
      throw new Error('interrupted');
    }
    this.busy++;
    try {
      return await this.inner.run(task, hooks);
    } finally {
      this.busy--;
      this.waiters.shift()?.();
    }
  }

  /** The wrapped executor belongs to the caller, who closes it. */
  async close(): Promise<void> {}
}
