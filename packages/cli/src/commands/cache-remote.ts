import type { RemoteStore } from '@lth/cluster';
import { cacheDirProblem, listRunRecords, LocalStore, readRunRecord, resolveCacheDir, UsageError, type RunRecord } from '@lth/pipeline';
import { EXIT, type Register } from '../common';
import { loadCluster, remoteUrl } from './cluster';

type Opts = { remote?: string; cacheDir?: string; json?: boolean };

function open(opts: Opts, warn: (m: string) => void): RemoteStore {
  const remote = remoteUrl(opts.remote);
  if (!remote) throw new UsageError('needs --remote URL (or LTH_REMOTE)');
  const dir = resolveCacheDir(opts.cacheDir);
  const problem = cacheDirProblem(dir);
  if (problem) throw new UsageError(`--cache-dir: ${problem}`);
  const { RemoteStore, openBackend } = loadCluster();
  return new RemoteStore(new LocalStore(dir, warn), openBackend(remote), warn);
}

/** The run record named, or the newest in the local cache. */
function record(file: string | undefined, cacheDir: string): RunRecord {
  if (file) {
    const r = readRunRecord(file);
    if ('problem' in r) throw new UsageError(`${file}: ${r.problem}`);
    return r.record;
  }
  const newest = listRunRecords(cacheDir)[0];
  if (!newest) throw new UsageError(`no run record in ${cacheDir}/runs: name one (lth cache push RECORD.json)`);
  return newest.record;
}

/** `lth cache push` / `lth cache pull`: a run's entries from the local cache to the remote store and back. */
export const registerCacheRemote: Register = (program, io, setExit) => {
  const cache = program.commands.find((c) => c.name() === 'cache');
  if (!cache) throw new Error('registerCacheRemote: the cache command is not registered');
  const warn = (m: string) => io.err(`warning: ${m}\n`);
  for (const dir of ['push', 'pull'] as const) {
    cache
      .command(dir)
      .description(
        dir === 'push'
          ? "upload a run's cache entries to the remote store (verified first)"
          : "download a run's cache entries from the remote store (verified) into the local cache",
      )
      .argument('[record]', 'run record file (default: the newest in the local cache)')
      .option('--remote <url>', 'file:///shared/dir or s3://bucket/prefix (default: $LTH_REMOTE)')
      .option('--cache-dir <dir>', 'local cache (default: $LTH_CACHE_DIR or .lth/cache)')
      .option('--json', 'print JSON')
      .action(async (file: string | undefined, opts: Opts) => {
        const store = open(opts, warn);
        const rec = record(file, store.root);
        const keys = [...new Set(rec.stages.map((s) => s.cacheKey).filter((k): k is string => Boolean(k)))];
        const moved: string[] = [];
        const present: string[] = [];
        const missing: string[] = [];
        for (const key of keys) {
          if (dir === 'push') {
            if (await store.hasRemote(key)) present.push(key);
            else {
              const entry = await store.local.get(key);
              if (!entry) missing.push(key);
              else {
                await store.publish(entry);
                moved.push(key);
              }
            }
          } else if (await store.local.get(key, { repair: false })) present.push(key);
          else if (await store.get(key)) moved.push(key);
          else missing.push(key);
        }
        const where = store.remote.where;
        if (opts.json)
          io.out(`${JSON.stringify({ run: rec.name, remote: where, [dir === 'push' ? 'pushed' : 'pulled']: moved, present, missing }, null, 2)}\n`);
        else {
          for (const k of missing)
            io.out(`missing ${k.slice(0, 12)} (${dir === 'push' ? 'not in the local cache, or corrupt' : 'not in the remote store, or corrupt'})\n`);
          io.out(
            `${rec.name}: ${dir === 'push' ? 'pushed' : 'pulled'} ${moved.length}, already there ${present.length}, missing ${missing.length} (${where})\n`,
          );
        }
        setExit(missing.length ? EXIT.stageFailure : EXIT.ok);
      });
  }
};
