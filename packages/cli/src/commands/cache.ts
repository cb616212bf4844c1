import {
  cacheDirProblem,
  DEFAULT_GC_GRACE_MS,
  gcCache,
  listCache,
  loadPipeline,
  LocalStore,
  pipelineStatus,
  resolveCacheDir,
  UsageError,
  verifyCache,
} from '@lth/pipeline';
import { collect, EXIT, positiveInt, type Register } from '../common';
import { cliRegistry } from '../stage-modules';

function openStore(flag: string | undefined, onProblem?: (m: string) => void): LocalStore {
  const dir = resolveCacheDir(flag);
  const problem = cacheDirProblem(dir);
  if (problem) throw new UsageError(`--cache-dir: ${problem}`);
  return new LocalStore(dir, onProblem);
}

function nonNegativeSeconds(v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new UsageError(`--grace must be a number of seconds >= 0, got '${v}'`);
  return n;
}

function mb(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}

export const registerCache: Register = (program, io, setExit) => {
  const cache = program.command('cache').description('inspect and clean the cache');
  cache
    .command('ls')
    .description('list cache entries, newest first')
    .option('--cache-dir <dir>', 'cache directory (default: $LTH_CACHE_DIR or .lth/cache)')
    .option('--json', 'print JSON')
    .action((opts: { cacheDir?: string; json?: boolean }) => {
      const store = openStore(opts.cacheDir);
      const list = listCache(store);
      if (opts.json) return io.out(`${JSON.stringify(list, null, 2)}\n`);
      for (const e of list) io.out(`${e.key.slice(0, 12)}  ${e.finishedAt}  ${mb(e.bytes).padStart(9)}  ${e.pipeline}/${e.path}  [${e.stage}]\n`);
      io.out(`${list.length} entries, ${mb(list.reduce((a, e) => a + e.bytes, 0))} in ${store.root}\n`);
    });
  cache
    .command('gc')
    .description('delete entries not needed by the last N runs nor by the given pipelines (as they are now)')
    .argument('[pipelines...]', 'pipeline files whose current stages to keep')
    .option('--keep-runs <n>', 'keep what the newest N run records used (older records are deleted)', positiveInt('--keep-runs'), 5)
    .option('--set <param=value>', 'parameter overrides for the given pipelines; repeatable', collect, [])
    .option('--grace <seconds>', 'never remove entries younger than this', nonNegativeSeconds, DEFAULT_GC_GRACE_MS / 1000)
    .option('--cache-dir <dir>', 'cache directory (default: $LTH_CACHE_DIR or .lth/cache)')
    .option('--dry-run', 'say what would be removed; remove nothing')
    .option('--json', 'print JSON (with the removed cache keys)')
    .action(async (pipelines: string[], opts: { keepRuns: number; set: string[]; grace: number; cacheDir?: string; dryRun?: boolean; json?: boolean }) => {
      const store = openStore(opts.cacheDir);
      const keep = new Set<string>();
      const registry = pipelines.length ? cliRegistry() : undefined;
      for (const file of pipelines) {
        const plan = loadPipeline(file, { registry: registry as NonNullable<typeof registry>, sets: opts.set });
        for (const s of await pipelineStatus(plan, store)) if (s.state === 'cached' && s.cacheKey) keep.add(s.cacheKey);
      }
      const r = await gcCache(store, {
        keepRuns: opts.keepRuns,
        keep,
        graceMs: opts.grace * 1000,
        dryRun: opts.dryRun,
        warn: (m) => io.err(`warning: ${m}\n`),
      });
      if (opts.json) return io.out(`${JSON.stringify({ root: store.root, ...r }, null, 2)}\n`);
      const prot = r.protected ? ` (${r.protected} only because a live run uses them or they are younger than ${opts.grace} s)` : '';
      if (opts.dryRun) {
        for (const key of r.removedKeys) io.out(`would remove ${key.slice(0, 12)}\n`);
        return io.out(
          `dry run: would keep ${r.kept} entries${prot}, remove ${r.removed} (${mb(r.freedBytes)}) and ${r.removedRuns} old run records; nothing was removed\n`,
        );
      }
      io.out(`kept ${r.kept} entries${prot}, removed ${r.removed} (${mb(r.freedBytes)} freed), removed ${r.removedRuns} old run records\n`);
    });
  cache
    .command('verify')
    .description('check every entry (each file against its sha256 and size, paths inside the entry); exit 1 if any is corrupt')
    .option('--fix', 'move corrupt entries to corrupt/ (the next run recomputes them)')
    .option('--json', 'print JSON')
    .option('--cache-dir <dir>', 'cache directory (default: $LTH_CACHE_DIR or .lth/cache)')
    .action(async (opts: { fix?: boolean; json?: boolean; cacheDir?: string }) => {
      const store = openStore(opts.cacheDir);
      const r = await verifyCache(store, { fix: opts.fix });
      if (opts.json) io.out(`${JSON.stringify({ root: store.root, ...r }, null, 2)}\n`);
      else {
        for (const c of r.corrupt) io.out(`corrupt ${c.key.slice(0, 12)}: ${c.problem}${c.fixed ? ' (moved to corrupt/)' : ''}\n`);
        io.out(
          `${r.checked} entries checked, ${r.corrupt.length} corrupt${r.corrupt.length && !opts.fix ? ' (lth cache verify --fix moves them aside)' : ''}\n`,
        );
      }
      setExit(r.corrupt.length ? EXIT.stageFailure : EXIT.ok);
    });
};
