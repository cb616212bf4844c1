import { gcCache, listCache, loadPipeline, loadRegistry, LocalStore, pipelineStatus, resolveCacheDir } from '@lth/pipeline';
import { collect, positiveInt, type Register } from '../common';

function mb(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}

export const registerCache: Register = (program, io) => {
  const cache = program.command('cache').description('inspect and clean the cache');
  cache
    .command('ls')
    .description('list cache entries, newest first')
    .option('--cache-dir <dir>', 'cache directory (default: $LTH_CACHE_DIR or .lth/cache)')
    .option('--json', 'print JSON')
    .action((opts: { cacheDir?: string; json?: boolean }) => {
      const store = new LocalStore(resolveCacheDir(opts.cacheDir));
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
    .option('--cache-dir <dir>', 'cache directory (default: $LTH_CACHE_DIR or .lth/cache)')
    .action(async (pipelines: string[], opts: { keepRuns: number; set: string[]; cacheDir?: string }) => {
      const store = new LocalStore(resolveCacheDir(opts.cacheDir));
      const keep = new Set<string>();
      const registry = pipelines.length ? loadRegistry() : undefined;
      for (const file of pipelines) {
        const plan = loadPipeline(file, { registry: registry as NonNullable<typeof registry>, sets: opts.set });
        for (const s of await pipelineStatus(plan, store)) if (s.state === 'cached' && s.cacheKey) keep.add(s.cacheKey);
      }
      const r = gcCache(store, { keepRuns: opts.keepRuns, keep });
      io.out(`kept ${r.kept} entries, removed ${r.removed} (${mb(r.freedBytes)} freed), removed ${r.removedRuns} old run records\n`);
    });
};
