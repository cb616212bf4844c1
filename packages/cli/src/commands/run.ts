import {
  cacheDirProblem,
  defaultJobs,
  isForced,
  loadPipeline,
  LocalStore,
  resolveCacheDir,
  runPipeline,
  UsageError,
  type Plan,
  type RunRecord,
} from '@lth/pipeline';
import { collect, EXIT, interruptOnSigint, nonNegativeInt, positiveInt, type Register } from '../common';
import { cliRegistry } from '../stage-modules';
import { RunDisplay } from '../display';
import { checkQueue, openRunStore, queueUrl, remoteUrl, runExecutor, writeClusterRecord } from './cluster';

export function checkForce(plan: Plan, force: string[]): void {
  for (const f of force) {
    if (!plan.nodes.some((n) => isForced(n.id, [f]))) {
      throw new UsageError(`--force ${f}: no such stage; stages: ${plan.nodes.map((n) => n.id).join(', ')} (a name inside a foreach matches every round)`);
    }
  }
}

export function summaryLines(rec: RunRecord): string[] {
  const count = (s: string) => rec.stages.filter((x) => x.status === s).length;
  const lines = [
    `${rec.name}: ${rec.status} in ${(rec.durationMs / 1000).toFixed(1)}s — ${count('ran')} ran, ${count('cached')} cached, ${count('failed')} failed, ${count('skipped')} skipped (backend: ${rec.backend})`,
  ];
  for (const s of rec.stages.filter((x) => x.status === 'failed')) lines.push(`  ${s.error ?? s.id}`);
  lines.push(rec.recordError ? `run record: not written: ${rec.recordError}` : `run record: ${rec.recordFile ?? '(not written)'}`);
  if (rec.report) lines.push(`${rec.stages.some((s) => s.uses.startsWith('report/') && s.files) ? 'report' : 'outputs'}: ${rec.report}`);
  else if (rec.status !== 'ok') lines.push(`outputs: none (${rec.status} before the last stage completed; completed stages are cached)`);
  return lines;
}

export const registerRun: Register = (program, io, setExit) => {
  program
    .command('run')
    .description('run a pipeline; stages whose cache key is unchanged come from the cache')
    .argument('<file>', 'pipeline YAML file')
    .option('--set <param=value>', 'override a parameter (params.NAME=VALUE, value parsed as YAML); repeatable', collect, [])
    .option('--force <stage>', 'recompute this stage (an expanded id, or a name that matches every round); repeatable', collect, [])
    .option('--jobs <n>', `stages run at once, each in a worker process (default: cores = ${defaultJobs()})`, positiveInt('--jobs'))
    .option('--cache-dir <dir>', 'cache directory (default: $LTH_CACHE_DIR or .lth/cache)')
    .option('--in-process', 'run stages in this process instead of worker processes (debugging)')
    .option('--json', 'print the run record as JSON on stdout (progress stays on stderr)')
    .option('--remote <url>', 'shared store behind the local cache: file:///dir or s3://bucket/prefix (default: $LTH_REMOTE)')
    .option('--queue <url>', 'run stages on `lth worker`s through Redis: redis://host:port (default: $LTH_QUEUE); needs --remote')
    .option('--retries <n>', 'with --queue: attempts of a failing stage after the first (default 0)', nonNegativeInt('--retries'))
    .action(
      async (
        file: string,
        opts: {
          set: string[];
          force: string[];
          jobs?: number;
          cacheDir?: string;
          inProcess?: boolean;
          json?: boolean;
          remote?: string;
          queue?: string;
          retries?: number;
        },
      ) => {
        const registry = cliRegistry();
        const plan = loadPipeline(file, { registry, sets: opts.set });
        checkForce(plan, opts.force);
        const display = new RunDisplay(io);
        const cacheDir = resolveCacheDir(opts.cacheDir);
        const problem = cacheDirProblem(cacheDir);
        if (problem) throw new UsageError(`--cache-dir: ${problem}`);
        const note = (m: string) => display.note(`warning: ${m}`);
        const local = new LocalStore(cacheDir, note);
        const urls = { remote: remoteUrl(opts.remote), queue: queueUrl(opts.queue) };
        const store = openRunStore(local, urls.remote, note);
        const clustered = Boolean(urls.remote || urls.queue);
        if (urls.queue) await checkQueue(urls.queue, urls.remote);
        const executor = runExecutor({ registry, local, store, jobs: opts.jobs, inProcess: opts.inProcess, queue: urls.queue, retries: opts.retries, note });
        const interrupt = interruptOnSigint(
          (m) => display.note(m),
          'interrupt: stopping running stages (Ctrl-C again to quit at once); completed stages stay cached',
        );
        display.start(plan.nodes.map((n) => n.id));
        let rec: RunRecord;
        try {
          rec = await runPipeline(plan, { store, executor, force: opts.force, signal: interrupt.signal, onEvent: display.event, writeRecord: !clustered });
          if (clustered) writeClusterRecord(rec, executor, urls, display.event);
        } finally {
          display.stop();
          interrupt.release();
          await executor.close();
        }
        if (opts.json) io.out(`${JSON.stringify(rec, null, 2)}\n`);
        io.err(`${summaryLines(rec).join('\n')}\n`);
        setExit(rec.status === 'ok' ? EXIT.ok : rec.status === 'interrupted' ? EXIT.interrupted : EXIT.stageFailure);
      },
    );
};
