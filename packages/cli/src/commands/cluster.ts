import type * as Cluster from '@lth/cluster';
import {
  createExecutor,
  type LocalStore,
  UsageError,
  writeRunRecord,
  type ArtifactStore,
  type Executor,
  type Registry,
  type RunEvent,
  type RunRecord,
} from '@lth/pipeline';

/**
 * @lth/cluster (BullMQ, ioredis, the S3 client) takes ~0.5 s to load, more than the rest of the
 * CLI: required on first use, by runs with a remote store or a queue and the cluster commands.
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports
export const loadCluster = (): typeof Cluster => require('@lth/cluster') as typeof Cluster;

/** `--remote`, else LTH_REMOTE; undefined for a machine-local run. */
export function remoteUrl(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string | undefined {
  return flag ?? (env['LTH_REMOTE'] || undefined);
}

/** `--queue`, else LTH_QUEUE. */
export function queueUrl(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string | undefined {
  return flag ?? (env['LTH_QUEUE'] || undefined);
}

/** A usage error (exit 2) without a remote store, or when Redis cannot be reached or refuses the credentials. */
export async function checkQueue(url: string, remote: string | undefined): Promise<void> {
  if (!remote) throw new UsageError('--queue needs a remote store that the workers share: --remote URL or LTH_REMOTE');
  const problem = await loadCluster().probeRedis(url);
  if (problem) throw new UsageError(`--queue: ${problem}`);
}

/** The local cache, with the remote store behind it when there is one (`peek`: status only, nothing downloaded). */
export function openRunStore(local: LocalStore, remote: string | undefined, note: (m: string) => void, peek = false): ArtifactStore {
  if (!remote) return local;
  const { RemoteStore, openBackend } = loadCluster();
  return new RemoteStore(local, openBackend(remote), note, { peek });
}

export interface ClusterRunOptions {
  registry: Registry;
  local: LocalStore;
  store: ArtifactStore;
  jobs?: number;
  inProcess?: boolean;
  queue?: string;
  retries?: number;
  note: (m: string) => void;
}

/** Local worker processes (publishing to the remote store when there is one), or the queue. */
export function runExecutor(o: ClusterRunOptions): Executor {
  // A store other than the local cache is the RemoteStore openRunStore made.
  const remote = o.store === o.local ? undefined : (o.store as Cluster.RemoteStore);
  if (o.queue) {
    const { QueueExecutor, RemoteStore } = loadCluster();
    if (!(remote instanceof RemoteStore)) throw new UsageError('--queue needs a remote store that the workers share: --remote URL or LTH_REMOTE');
    return new QueueExecutor({ queueUrl: o.queue, store: remote, slots: o.jobs ?? 64, retries: o.retries ?? 0, onProblem: o.note });
  }
  const local = createExecutor({ registry: o.registry, store: o.local, jobs: o.jobs, inProcess: o.inProcess });
  if (!remote) return local;
  const { PublishingExecutor } = loadCluster();
  return new PublishingExecutor(local, remote);
}

/**
 * The run record of a run with a remote store or a queue: the local run's, plus where the
 * remote store and queue are (credentials redacted), which worker and host ran each stage and
 * in how many attempts.
 */
export function writeClusterRecord(rec: RunRecord, executor: Executor, urls: { remote?: string; queue?: string }, emit: (e: RunEvent) => void): void {
  const cluster = urls.remote || urls.queue ? loadCluster() : undefined;
  const queued = cluster && executor instanceof cluster.QueueExecutor ? executor : undefined;
  const extra = rec as RunRecord & { remote?: string; queue?: string };
  if (urls.remote) extra.remote = cluster!.redactUrl(urls.remote);
  if (urls.queue) extra.queue = cluster!.redactUrl(urls.queue);
  for (const s of rec.stages) {
    if (!queued) continue;
    const by = s.cacheKey ? queued.ranBy.get(s.cacheKey) : undefined;
    if (by && s.status === 'ran') Object.assign(s, { worker: by.worker, host: by.host, ...(by.reused ? { reused: true } : {}) });
    // Attempts of the job (1 + the retries it took), for the stages that ran or failed on the queue.
    const attempts = queued.attempts.get(s.id);
    if (attempts && (s.status === 'ran' || s.status === 'failed')) Object.assign(s, { attempts });
  }
  try {
    writeRunRecord(rec.cacheDir, rec);
  } catch (err) {
    rec.recordError = err instanceof Error ? err.message : String(err);
    emit({ type: 'problem', message: rec.recordError });
  }
}
