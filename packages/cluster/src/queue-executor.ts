import { randomUUID } from 'node:crypto';
import { Job, Queue, QueueEvents } from 'bullmq';
import type { Entry, Executor, StageTask, TaskHooks } from '@lth/pipeline';
import { CANCELLED, JobInterest } from './interest';
import { JobResult, toPayload, type JobPayload } from './payload';
import { QUEUE_NAME, type JobProgressData } from './queue-names';
import type { RemoteStore } from './remote-store';
import { redactIn, redisOptions } from './urls';

export interface QueueExecutorOptions {
  queueUrl: string;
  store: RemoteStore;
  /** Stages in flight at once (the workers' total concurrency is what bounds the work). */
  slots: number;
  /** Extra attempts of a failing stage (BullMQ `attempts` = retries + 1). */
  retries: number;
  onProblem: (message: string) => void;
  /** How often a waiting stage polls its job's state (besides the event stream), ms. */
  pollMs?: number;
}

/**
 * done: a worker completed it; failed: for good (after `attempts`); vanished: the job is gone
 * (Redis restarted, removed) or was stopped by the Ctrl-C of every other run that wanted it
 * just as this run joined: either way it is enqueued again if its entry is not there.
 */
type Outcome = { done: JobResult } | { failed: string; attempts: number } | { vanished: true };

/**
 * Runs stages on `lth worker` processes through a BullMQ queue. The job id is the stage's
 * cache key, so coordinators running overlapping pipelines share one job per entry (BullMQ
 * adds a job id once); a job that exists already is joined, a failed one from an earlier run
 * is retried, a completed one whose entry is gone from the remote store is replaced. The
 * entry comes back through the remote store, verified into the local cache.
 */
export class QueueExecutor implements Executor {
  readonly slots: number;
  private readonly queue: Queue;
  private readonly events: QueueEvents;
  private readonly listeners = new Map<string, Set<(e: { progress?: JobProgressData; outcome?: Outcome }) => void>>();
  /** Who ran each key (for the run record). */
  readonly ranBy = new Map<string, JobResult>();
  /** How many attempts each stage's job took, completed or failed, by stage id (a failed stage's record has no key). */
  readonly attempts = new Map<string, number>();
  /** This run, in the sets of runs that want each job (interest.ts). */
  private readonly runId = randomUUID();
  private readonly interest: JobInterest;
  private redisDown = false;
  /** Cancellations (Ctrl-C) and departures, awaited before the connections close. */
  private readonly pending: Array<Promise<void>> = [];
  /** Keys this run cancelled (Ctrl-C while it waited for them). */
  private readonly cancelled = new Set<string>();

  constructor(private readonly opts: QueueExecutorOptions) {
    this.slots = opts.slots;
    const connection = redisOptions(opts.queueUrl);
    this.queue = new Queue(QUEUE_NAME, { connection });
    this.events = new QueueEvents(QUEUE_NAME, { connection });
    const problem = (err: Error) => this.noteRedis(err);
    this.interest = new JobInterest(opts.queueUrl, problem);
    this.queue.on('error', problem);
    this.events.on('error', problem);
    this.events.on('progress', ({ jobId, data }) => this.tell(jobId, { progress: data as JobProgressData }));
    this.events.on('completed', ({ jobId, returnvalue }) => {
      const r = JobResult.safeParse(typeof returnvalue === 'string' ? safeJson(returnvalue) : returnvalue);
      this.tell(jobId, { outcome: { done: r.success ? r.data : { host: '?', worker: '?', reused: false } } });
    });
    // 'failed' is also sent for an attempt that will be retried: the poll decides.
  }

  private noteRedis(err: Error): void {
    if (this.redisDown) return;
    this.redisDown = true;
    this.opts.onProblem(`queue: ${redactIn(err.message, this.opts.queueUrl)}; waiting for Redis`);
  }

  private tell(jobId: string, e: { progress?: JobProgressData; outcome?: Outcome }): void {
    for (const l of this.listeners.get(jobId) ?? []) l(e);
  }

  async run(task: StageTask, hooks: TaskHooks): Promise<Entry> {
    const payload = toPayload(task, this.opts.store);
    // Inputs that exist only in this machine's cache are published first: workers read them remotely.
    for (const b of Object.values(payload.inputs).flat()) await this.ensurePublished(b.entry);
    let replace = false;
    try {
      for (let attempt = 0; attempt < 8; attempt++) {
        await this.interest.want(payload.key, this.runId);
        await this.enqueue(payload, replace);
        const outcome = await this.wait(payload.key, hooks);
        if ('failed' in outcome) {
          this.attempts.set(task.id, outcome.attempts);
          throw new Error(outcome.attempts > 1 ? `${outcome.failed} (attempt ${outcome.attempts})` : outcome.failed);
        }
        // The entry is what counts: a vanished job (Redis restarted without its data, or the job
        // was removed) whose entry was published is done; otherwise it is enqueued again.
        const entry = await this.opts.store.get(payload.key);
        if (entry) {
          if ('done' in outcome) {
            this.ranBy.set(payload.key, outcome.done);
            if (outcome.done.attempts) this.attempts.set(task.id, outcome.done.attempts);
          }
          return entry;
        }
        replace = 'done' in outcome;
        this.opts.onProblem(
          'done' in outcome
            ? `${task.id}: job ${payload.key.slice(0, 12)} completed but its remote entry is missing or corrupt; enqueuing it again`
            : `${task.id}: job ${payload.key.slice(0, 12)} vanished from the queue before its entry was published; enqueuing it again`,
        );
      }
    } finally {
      // A cancelled job: cancel() took this run out (wait's onAbort); otherwise it no longer waits.
      if (!this.cancelled.has(payload.key)) this.pending.push(this.interest.leave(payload.key, this.runId).catch(() => {}));
    }
    throw new Error(`the entry of job ${payload.key.slice(0, 12)} never reached the remote store ${this.opts.store.remote.where}`);
  }

  private async ensurePublished(key: string): Promise<void> {
    if (await this.opts.store.hasRemote(key)) return;
    const entry = await this.opts.store.local.get(key);
    if (!entry) throw new Error(`input entry ${key.slice(0, 12)} is in neither the local cache nor the remote store`);
    await this.opts.store.publish(entry);
  }

  /** The job of this key exists afterwards, waiting or running (or finished just now). */
  private async enqueue(p: JobPayload, replace: boolean): Promise<void> {
    const existing = await Job.fromId(this.queue, p.key);
    if (existing) {
      const state = await existing.getState();
      if (state === 'failed') {
        // An earlier run's failure: this run asks again.
        await existing.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true }).catch(() => {});
        return;
      }
      if (state !== 'completed' && !replace) return;
      if (state === 'active') return;
      // Completed earlier, but the entry is not in the remote store (runPipeline looked): stale.
      await existing.remove().catch(() => {});
    }
    await this.queue.add(p.uses, p, {
      jobId: p.key,
      attempts: this.opts.retries + 1,
      backoff: { type: 'fixed', delay: 1000 },
      removeOnComplete: { age: 24 * 3600 },
      removeOnFail: { age: 24 * 3600 },
    });
  }

  /** Until the job completes or fails for good: events for speed, a poll as the ground truth. */
  private wait(key: string, hooks: TaskHooks): Promise<Outcome> {
    return new Promise<Outcome>((resolve, reject) => {
      let settled = false;
      let timer: NodeJS.Timeout | undefined;
      const set = this.listeners.get(key) ?? new Set();
      this.listeners.set(key, set);
      const finish = (o: Outcome | Error) => {
        if (settled) return;
        settled = true;
        set.delete(listener);
        if (timer) clearTimeout(timer);
        hooks.signal.removeEventListener('abort', onAbort);
        if (o instanceof Error) reject(o);
        else resolve(o);
      };
      const listener = (e: { progress?: JobProgressData; outcome?: Outcome }) => {
        if (e.progress && 'log' in e.progress) hooks.log(String(e.progress.log));
        else if (e.progress && 'progress' in e.progress) hooks.progress(e.progress.progress as never);
        if (e.outcome) finish(e.outcome);
      };
      set.add(listener);
      let polls = 0;
      const poll = async () => {
        try {
          // Keep this run's interest from expiring (a minute apart: INTEREST_TTL_S is a day).
          if (polls++ % 60 === 0) await this.interest.refresh(key);
          const job = await Job.fromId(this.queue, key);
          this.redisDown = false;
          if (!job) return finish({ vanished: true });
          const state = await job.getState();
          if (state === 'completed') {
            const r = JobResult.safeParse(job.returnvalue);
            return finish({ done: r.success ? r.data : { host: '?', worker: '?', reused: false } });
          }
          if (state === 'failed') {
            // Stopped because its other runs cancelled it just before this one joined: ask again.
            if (job.failedReason?.startsWith(CANCELLED)) return finish({ vanished: true });
            return finish({ failed: job.failedReason || 'the job failed', attempts: job.attemptsMade });
          }
        } catch (err) {
          this.noteRedis(err as Error);
        }
        if (!settled) timer = setTimeout(() => void poll(), this.opts.pollMs ?? 1000);
      };
      const onAbort = () => {
        this.pending.push(this.cancel(key));
        finish(new Error('interrupted'));
      };
      if (hooks.signal.aborted) return onAbort();
      hooks.signal.addEventListener('abort', onAbort, { once: true });
      void poll();
    });
  }

  /**
   * Ctrl-C: this run no longer wants the job. When no other run does, a job no worker has
   * started is removed and a running one is stopped by its worker (interest.ts), which
   * publishes nothing; a job that other runs still wait for goes on.
   */
  private async cancel(key: string): Promise<void> {
    this.cancelled.add(key);
    try {
      if (!(await this.interest.cancel(key, this.runId))) return;
      const job = await Job.fromId(this.queue, key);
      const state = await job?.getState();
      if (job && (state === 'waiting' || state === 'delayed' || state === 'prioritized')) await job.remove();
    } catch {
      /* Redis unreachable: the job goes on, and a worker may still compute the entry */
    }
  }

  async close(): Promise<void> {
    // Bounded: with Redis down, Ctrl-C must not hang on the cancellations (they are then lost,
    // and the jobs are computed: the safe side).
    let timer: NodeJS.Timeout | undefined;
    const bound = new Promise<void>((resolve) => (timer = setTimeout(resolve, 10_000)));
    await Promise.race([Promise.all(this.pending), bound]);
    clearTimeout(timer);
    this.interest.close();
    await this.events.close();
    await this.queue.close();
  }
}

function safeJson(s: string): unknown {
  try {
    return JSON.parse(s);
  } catch {
    return undefined;
  }
}
