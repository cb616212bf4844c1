import type { Entry, Executor, StageTask, TaskHooks } from '@lth/pipeline';
import type { RemoteStore } from './remote-store';

/**
 * `lth run --remote` without a queue: stages run on this machine as usual (any executor) and
 * each entry they commit is published to the remote store before the run uses it.
 */
export class PublishingExecutor implements Executor {
  constructor(
    private readonly inner: Executor,
    private readonly store: RemoteStore,
  ) {}

  get slots(): number {
    return this.inner.slots;
  }

  async run(task: StageTask, hooks: TaskHooks): Promise<Entry> {
    const entry = await this.inner.run(task, hooks);
    await this.store.publish(entry);
    return entry;
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
