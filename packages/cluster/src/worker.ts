import { hostname } from 'node:os';
import { type Job, UnrecoverableError, Worker } from 'bullmq';
import { confinedPath } from '@lth/artifacts';
import { cacheKey, codeFingerprint, ProcessExecutor, type Entry, type Registry, type StageTask, type TaskInput } from '@lth/pipeline';
import { CANCELLED, JobInterest, watchCancellations } from './interest';
import { JobPayload, type JobInput, type JobResult } from './payload';
import { lockMs, QUEUE_NAME, type JobProgressData } from './queue-names';
import type { RemoteStore } from './remote-store';
import { redactIn, redisOptions } from './urls';

export interface WorkerOptions {
  queueUrl: string;
  store: RemoteStore;
  registry: Registry;
  concurrency: number;
  log: (message: string) => void;
  env?: NodeJS.ProcessEnv;
  /** How often the running jobs are checked for cancellation, ms (default 1000). */
  cancelPollMs?: number;
}

export interface StageWorker {
  readonly id: string;
  /** Resolves once connected to Redis and taking jobs. */
  ready(): Promise<void>;
  /** Stops taking jobs and waits for the running ones (their entries are published). */
  close(): Promise<void>;
}

/**
 * `lth worker`: a BullMQ worker that takes stage jobs and runs each like `lth run` does, in a
 * worker process of a ProcessExecutor on this machine's local cache, with inputs fetched
 * (verified) from the remote store and the output entry published there before the job
 * completes. Nothing is published from a stage that did not finish: the entry is committed
 * locally first, then uploaded file by file and made visible by its manifest.
 */
export function startWorker(opts: WorkerOptions): StageWorker {
  const host = hostname();
  const id = `${host}:${process.pid}`;
  const executor = new ProcessExecutor(opts.registry, opts.store, opts.concurrency, opts.env ?? process.env);
  const lock = lockMs(opts.env);
  const interest = new JobInterest(opts.queueUrl, (err) => opts.log(`queue: ${redactIn(err.message, opts.queueUrl)}`));
  /** The keys of the jobs running here, watched for cancellation. */
  const running = new Set<string>();
  const cancelled = (p: JobPayload, what: string) =>
    new UnrecoverableError(`${CANCELLED} no run wants ${p.id} (job ${p.key.slice(0, 12)}) any more; ${what} (on worker ${id})`);

  // The third parameter makes BullMQ hand each job an AbortSignal, which worker.cancelJob aborts.
  const process1 = async (job: Job, _token?: string, signal?: AbortSignal): Promise<JobResult> => {
    const parsed = JobPayload.safeParse(job.data);
    if (!parsed.success) {
      const i = parsed.error.issues[0];
      throw new UnrecoverableError(`job ${job.id}: invalid payload at ${i?.path.join('.') || '(root)'}: ${i?.message} (worker ${id})`);
    }
    const p = parsed.data;
    const reg = opts.registry.get(p.uses);
    if (!reg) throw new UnrecoverableError(`stage '${p.uses}' is not registered on worker ${id}`);
    const code = codeFingerprint(reg.package);
    if (p.parts.stage !== p.uses || cacheKey(p.parts) !== p.key || job.id !== p.key) {
      throw new UnrecoverableError(`job ${job.id}: its key does not match its parts (worker ${id})`);
    }
    if (p.parts.code !== code) {
      throw new UnrecoverableError(
        `the code of ${reg.package} on worker ${id} differs from the coordinator's (fingerprint ${code.slice(0, 12)} vs ${p.parts.code.slice(0, 12)}): run the same lth version everywhere`,
      );
    }
    // Computed and published already (a job handed back after its worker published, or a
    // coordinator that enqueued before it saw the entry): nothing to do.
    if (await opts.store.hasRemote(p.key)) return { host, worker: id, reused: true, attempts: job.attemptsMade + 1 };
    // Cancelled while it waited (its coordinators' Ctrl-C came between their check and our take).
    if (await interest.isCancelled(p.key)) throw cancelled(p, 'not started');

    const inputs: Record<string, TaskInput | TaskInput[]> = {};
    for (const [port, b] of Object.entries(p.inputs)) inputs[port] = Array.isArray(b) ? await Promise.all(b.map(fetchInput)) : await fetchInput(b);
    const task: StageTask = { id: p.id, uses: p.uses, pipeline: p.pipeline, rawConfig: p.rawConfig, key: p.key, parts: p.parts, inputs };

    // A stage stops when every run that wanted it cancelled it (the signal, through the
    // executor's abort, as on Ctrl-C of a local run), or with the process: a worker that exits
    // mid-stage hands its job back (its lock lapses and BullMQ moves the stalled job on).
    const stop = signal ?? new AbortController().signal;
    const send = (data: JobProgressData) => void job.updateProgress(data).catch(() => {});
    let lastProgress = 0;
    let reached = '';
    const release = await opts.store.lock(p.key);
    running.add(p.key);
    try {
      let entry: Entry | undefined = await opts.store.get(p.key);
      if (!entry) {
        opts.log(`${p.id} (${p.uses}, ${p.key.slice(0, 12)}): running`);
        entry = await executor.run(task, {
          signal: stop,
          log: (message) => {
            opts.log(`${p.id}: ${message}`);
            send({ log: message });
          },
          progress: (progress) => {
            reached = `${progress.done}/${progress.total}`;
            // At most a few Redis writes a second, and always the last one.
            const now = Date.now();
            if (now - lastProgress < 200 && progress.done !== progress.total) return;
            lastProgress = now;
            send({ progress: { ...progress } });
          },
        });
      }
      await opts.store.publish(entry);
      opts.log(`${p.id} (${p.key.slice(0, 12)}): published`);
      return { host, worker: id, reused: false, attempts: job.attemptsMade + 1 };
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      // Unrecoverable: BullMQ fails the job at once instead of retrying it; nothing was published.
      if (stop.aborted) throw cancelled(p, `stage stopped${reached ? ` at ${reached}` : ''}: ${message}`);
      throw new Error(`${message} (on worker ${id})`, { cause: err });
    } finally {
      running.delete(p.key);
      release();
    }
  };

  const fetchInput = async (b: JobInput): Promise<TaskInput> => {
    const entry = await opts.store.get(b.entry);
    const out = entry?.meta.outputs[b.port];
    if (!entry || !out) throw new Error(`input ${b.stage}.${b.port}: entry ${b.entry.slice(0, 12)} is not in the remote store ${opts.store.remote.where}`);
    if (out.sha256 !== b.sha256 || out.kind !== b.kind)
      throw new Error(`input ${b.stage}.${b.port}: entry ${b.entry.slice(0, 12)} holds other content than the job names`);
    const file = confinedPath(entry.dir, out.file, `cache entry ${entry.key.slice(0, 12)} output '${b.port}'`);
    return { stage: b.stage, port: b.port, file, kind: out.kind, sha256: out.sha256, computeMs: entry.meta.timings.durationMs };
  };

  const worker = new Worker(QUEUE_NAME, process1, {
    connection: redisOptions(opts.queueUrl),
    concurrency: opts.concurrency,
    lockDuration: lock,
    stalledInterval: lock,
    maxStalledCount: 1,
  });
  worker.on('error', (err) => opts.log(`queue: ${redactIn(err.message, opts.queueUrl)}`));
  worker.on('failed', (job, err) => opts.log(`${job?.data?.id ?? job?.id}: failed: ${err.message}`));
  const unwatch = watchCancellations(
    interest,
    () => [...running],
    (key) => {
      running.delete(key);
      if (worker.cancelJob(key, 'cancelled')) opts.log(`job ${key.slice(0, 12)}: cancelled by every run that wanted it; stopping its stage`);
    },
    opts.cancelPollMs ?? 1000,
  );

  return {
    id,
    ready: async () => {
      await worker.waitUntilReady();
    },
    close: async () => {
      await worker.close();
      unwatch();
      interest.close();
      await executor.close();
    },
  };
}
