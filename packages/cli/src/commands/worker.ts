import { availableParallelism } from 'node:os';
import { cacheDirProblem, LocalStore, resolveCacheDir, UsageError } from '@lth/pipeline';
import { cliRegistry } from '../stage-modules';
import { EXIT, positiveInt, type Register } from '../common';
import { loadCluster, queueUrl, remoteUrl } from './cluster';

export const registerWorker: Register = (program, io, setExit) => {
  program
    .command('worker')
    .description('take stage jobs from a BullMQ queue on Redis and run them, publishing their entries to the remote store (docs/DISTRIBUTED.md)')
    .option('--queue <url>', 'Redis: redis://[:password@]host:port or rediss:// (default: $LTH_QUEUE)')
    .option('--remote <url>', 'shared store: file:///shared/dir or s3://bucket/prefix (default: $LTH_REMOTE)')
    .option('--concurrency <n>', `stages at once, each in a worker process (default: cores = ${availableParallelism()})`, positiveInt('--concurrency'))
    .option('--cache-dir <dir>', 'local cache in front of the remote store (default: $LTH_CACHE_DIR or .lth/cache)')
    .action(async (opts: { queue?: string; remote?: string; concurrency?: number; cacheDir?: string }) => {
      const queue = queueUrl(opts.queue);
      const remote = remoteUrl(opts.remote);
      if (!queue) throw new UsageError('lth worker needs --queue redis://host:port (or LTH_QUEUE)');
      if (!remote) throw new UsageError('lth worker needs --remote URL (or LTH_REMOTE): the store it shares with the coordinators');
      const cacheDir = resolveCacheDir(opts.cacheDir);
      const problem = cacheDirProblem(cacheDir);
      if (problem) throw new UsageError(`--cache-dir: ${problem}`);
      const { openBackend, probeRedis, redactUrl, RemoteStore, startWorker } = loadCluster();
      const unreachable = await probeRedis(queue);
      if (unreachable) throw new UsageError(`--queue: ${unreachable}`);
      const say = (m: string) => io.err(`${m}\n`);
      const store = new RemoteStore(new LocalStore(cacheDir, (m) => say(`warning: ${m}`)), openBackend(remote), (m) => say(`warning: ${m}`));
      const registry = cliRegistry();
      const concurrency = opts.concurrency ?? Math.max(1, availableParallelism());
      const worker = startWorker({ queueUrl: queue, store, registry, concurrency, log: say });
      let stopping = false;
      const stopped = new Promise<void>((resolve) => {
        const onSignal = (sig: NodeJS.Signals) => {
          if (stopping) {
            // Second signal: leave now; running jobs stall and BullMQ hands them to another worker.
            say(`worker ${worker.id}: ${sig} again: leaving the running stages to other workers`);
            process.exit(EXIT.interrupted);
          }
          stopping = true;
          say(`worker ${worker.id}: ${sig}: finishing the running stages, taking no new ones (${sig} again hands them back)`);
          void worker.close().then(resolve, resolve);
        };
        process.on('SIGTERM', onSignal);
        process.on('SIGINT', onSignal);
      });
      await worker.ready();
      say(`worker ${worker.id} ready: queue ${redactUrl(queue)}, remote ${redactUrl(remote)}, concurrency ${concurrency}, cache ${cacheDir}`);
      await stopped;
      say(`worker ${worker.id} stopped`);
      setExit(EXIT.ok);
    });
};
