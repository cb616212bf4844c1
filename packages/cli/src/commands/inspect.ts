import { graphDot, graphText, loadPipeline, LocalStore, pipelineStatus, resolveCacheDir } from '@lth/pipeline';
import { collect, type Register } from '../common';
import { cliRegistry } from '../stage-modules';
import { openRunStore, remoteUrl } from './cluster';
import { checkForce } from './run';

export const registerStatus: Register = (program, io) => {
  program
    .command('status')
    .description('what `lth run` would compute and why (which part of the cache key changed)')
    .argument('<file>', 'pipeline YAML file')
    .option('--set <param=value>', 'override a parameter; repeatable', collect, [])
    .option('--force <stage>', 'treat this stage as forced; repeatable', collect, [])
    .option('--cache-dir <dir>', 'cache directory (default: $LTH_CACHE_DIR or .lth/cache)')
    .option('--json', 'print JSON')
    .option('--remote <url>', 'count entries in this remote store as cached too (default: $LTH_REMOTE)')
    .action(async (file: string, opts: { set: string[]; force: string[]; cacheDir?: string; json?: boolean; remote?: string }) => {
      const plan = loadPipeline(file, { registry: cliRegistry(), sets: opts.set });
      checkForce(plan, opts.force);
      const warn = (m: string) => io.err(`warning: ${m}\n`);
      const store = openRunStore(new LocalStore(resolveCacheDir(opts.cacheDir), warn), remoteUrl(opts.remote), warn, true);
      const lines = await pipelineStatus(plan, store, opts.force);
      if (opts.json) return io.out(`${JSON.stringify(lines, null, 2)}\n`);
      const w = Math.max(...lines.map((l) => l.id.length), 4);
      for (const l of lines) io.out(`${l.state === 'cached' ? 'cached' : 'run   '}  ${l.id.padEnd(w)}  ${l.uses}: ${l.why}\n`);
      const n = lines.filter((l) => l.state === 'ran').length;
      io.out(n ? `${n} of ${lines.length} stages would run\n` : `all ${lines.length} stages are cached\n`);
    });
};

export const registerGraph: Register = (program, io) => {
  program
    .command('graph')
    .description('print the expanded DAG (text, or Graphviz DOT with --dot)')
    .argument('<file>', 'pipeline YAML file')
    .option('--set <param=value>', 'override a parameter; repeatable', collect, [])
    .option('--dot', 'Graphviz DOT output (e.g. | dot -Tsvg > graph.svg)')
    .option('--json', 'print JSON: the pipeline name and each stage with its inputs')
    .action((file: string, opts: { set: string[]; dot?: boolean; json?: boolean }) => {
      const plan = loadPipeline(file, { registry: cliRegistry(), sets: opts.set });
      if (opts.json) {
        const stages = plan.nodes.map((n) => ({
          id: n.id,
          uses: n.uses,
          inputs: Object.fromEntries(
            Object.entries(n.inputs).map(([port, b]) => [port, (Array.isArray(b) ? b : [b]).map((x) => ({ stage: x.stage, port: x.port }))]),
          ),
        }));
        return io.out(`${JSON.stringify({ name: plan.name, stages }, null, 2)}\n`);
      }
      io.out(opts.dot ? graphDot(plan) : graphText(plan));
    });
};
