import { join, relative } from 'node:path';
import { confinedPath, safeSegment } from '@lth/artifacts';
import { createExecutor, defaultJobs, loadPipeline, LocalStore, resolveCacheDir, UsageError, type RunEvent } from '@lth/pipeline';
import type * as Sweep from '@lth/sweep';
import type { SweepEvent, SweepResult } from '@lth/sweep';
import { EXIT, interruptOnSigint, positiveInt, type Io, type Register } from '../common';
import { cliRegistry } from '../stage-modules';

// @lth/sweep takes ~0.7 s to load: required by `lth sweep` only.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const loadSweep = (): typeof Sweep => require('@lth/sweep') as typeof Sweep;

interface SweepFlags {
  space?: string;
  out?: string;
  resume?: boolean;
  fresh?: boolean;
  parallel?: number;
  jobs?: number;
  cacheDir?: string;
  inProcess?: boolean;
  json?: boolean;
}

const fmt = (v: number | null) => (v === null ? 'no value' : Number(v.toPrecision(5)).toString());

/** One line per trial-rung started and finished; stage progress at most every 30 s per trial. */
function sweepPrinter(io: Io): { event: (e: SweepEvent) => void; run: (trial: number, budget: number, e: RunEvent) => void } {
  const last = new Map<string, number>();
  let full = 0;
  return {
    event: (e) => {
      if (e.type === 'start') {
        full = e.budgets[e.budgets.length - 1] ?? 0;
        io.err(
          `sweep: ${e.trials} trials, budgets ${e.budgets.join(' / ')}${e.resumed ? `; resuming with ${e.resumed} trial-rung${e.resumed === 1 ? '' : 's'} already done` : ''}\n`,
        );
      } else if (e.state === 'running') {
        io.err(`trial ${e.trial} @ ${e.budget}: running ${JSON.stringify(e.params)}\n`);
      } else if (e.result.at !== undefined && e.budget < full && e.state !== 'failed') {
        // single-run: a rung judged while the trial's one run goes on
        const r = e.result;
        io.err(`trial ${e.trial} @ ${e.budget}: ${fmt(r.value)} at iteration ${r.at}: ${e.state === 'pruned' ? 'pruned, stopping its run' : 'continues'}\n`);
      } else {
        const r = e.result;
        const how = `${r.ran} ran, ${r.cached} cached, ${(r.durationMs / 1000).toFixed(1)}s`;
        io.err(`trial ${e.trial} @ ${e.budget}: ${e.state === 'done' ? fmt(r.value) : `FAILED: ${r.error}`} (${how})\n`);
      }
    },
    run: (trial, budget, e) => {
      // "interrupted" failures follow a Ctrl-C that was already reported.
      if (e.type === 'stage' && e.state === 'failed' && !/: interrupted$/.test(e.error ?? '')) io.err(`trial ${trial} @ ${budget}: ${e.error}\n`);
      if (e.type === 'log' && /diverged/.test(e.message)) io.err(`trial ${trial} @ ${budget}: [${e.id}] ${e.message}\n`);
      if (e.type !== 'progress') return;
      const key = `${trial}:${e.id}`;
      const now = Date.now();
      if (now - (last.get(key) ?? 0) < 30_000) return;
      last.set(key, now);
      io.err(`trial ${trial} @ ${budget}: [${e.id}] ${e.progress.done}/${e.progress.total}${e.progress.message ? ` ${e.progress.message}` : ''}\n`);
    },
  };
}

export function sweepSummary(r: SweepResult, cwd = process.cwd()): string[] {
  const s = r.study;
  const c = s.compute;
  const unit = s.space.pruner.budgetParam;
  const pct = (x: number) => `${((100 * x) / Math.max(1, c.budgetFull)).toFixed(1)}%`;
  return [
    ...loadSweep().trialsText(s),
    `best: ${s.best ? `trial ${s.best.trial} ${JSON.stringify(s.best.params)}: ${fmt(s.best.value)} at ${unit}=${s.best.budget}` : 'no trial produced a value'}`,
    ...(s.status === 'complete' && s.best && s.best.budget < (s.budgets[s.budgets.length - 1] ?? 0)
      ? [`note: no trial reached the full budget (a rung of n trial-rungs promotes only its top floor(n/${s.space.pruner.eta})); run more trials`]
      : []),
    `compute: ${c.budgetUsed} ${unit} ${s.space.pruner.mode === 'single-run' ? 'trained over all trials' : 'over all trial-rungs'} (${pct(c.budgetUsed)} of ${c.budgetFull} for every trial at the full budget); ${c.budgetComputed} computed, the rest cache hits`,
    `study ${s.status}: ${relative(cwd, r.files.study) || r.files.study}, ${relative(cwd, r.files.trials)}, ${relative(cwd, r.files.html)}`,
  ];
}

export const registerSweep: Register = (program, io, setExit) => {
  program
    .command('sweep')
    .description('hyperparameter sweep over pipeline params with successive-halving trial pruning (SHA / ASHA)')
    .argument('<file>', 'pipeline YAML file')
    .option('--space <file>', "search space YAML (params, sampler, trials, objective, pruner); default: the pipeline's 'sweep:' block")
    .option('--out <dir>', 'study directory (default: .lth/sweeps/<name>)')
    .option('--resume', 'require a study.json in the study directory to resume (by default one is resumed when present)')
    .option('--fresh', 'ignore an existing study.json and start over (the cache still serves finished stages)')
    .option('--parallel <n>', "trial-rungs run at once (default: the space's 'parallel')", positiveInt('--parallel'))
    .option('--jobs <n>', `stages run at once over all trials (default: cores = ${defaultJobs()})`, positiveInt('--jobs'))
    .option('--cache-dir <dir>', 'cache directory (default: $LTH_CACHE_DIR or .lth/cache)')
    .option('--in-process', 'run stages in this process instead of worker processes (debugging)')
    .option('--json', 'print study.json on stdout')
    .action(async (file: string, opts: SweepFlags) => {
      if (opts.resume && opts.fresh) throw new UsageError('--resume and --fresh exclude each other');
      const registry = cliRegistry();
      // --space wins over a `sweep:` block in the pipeline (say, to try another space).
      const spaceFile = opts.space ?? file;
      const { loadSpace, runSweep, spaceFromPipeline } = loadSweep();
      const loaded = opts.space ? loadSpace(opts.space) : spaceFromPipeline(file);
      if (opts.parallel) loaded.space.parallel = opts.parallel;
      const name = loaded.space.name ?? loadPipeline(file, { registry }).name;
      // The schemas already refuse a name such as '..'; confining the derived directory too keeps
      // a study inside .lth/sweeps/ whatever a future name rule lets through. (--out is the user's.)
      const where = loaded.space.name !== undefined ? `${spaceFile}: name` : `${file}: name`;
      const outDir = opts.out ?? confinedPath(join('.lth', 'sweeps'), safeSegment(name, where), where);
      const store = new LocalStore(resolveCacheDir(opts.cacheDir), (m) => io.err(`warning: ${m}\n`));
      const executor = createExecutor({ registry, store, jobs: opts.jobs, inProcess: opts.inProcess });
      const interrupt = interruptOnSigint(
        (m) => io.err(`${m}\n`),
        'interrupt: stopping running trials (Ctrl-C again to quit at once); rerun the same command to resume',
      );
      const printer = sweepPrinter(io);
      let r: SweepResult;
      try {
        r = await runSweep({
          pipelineFile: file,
          spaceFile,
          space: loaded,
          registry,
          store,
          executor,
          outDir,
          resume: opts.resume ? 'require' : opts.fresh ? 'fresh' : 'auto',
          signal: interrupt.signal,
          onEvent: printer.event,
          onRunEvent: printer.run,
        });
      } finally {
        interrupt.release();
        await executor.close();
      }
      if (opts.json) io.out(`${JSON.stringify(r.study, null, 2)}\n`);
      io.err(`${sweepSummary(r).join('\n')}\n`);
      setExit(r.study.status === 'interrupted' ? EXIT.interrupted : r.study.best ? EXIT.ok : EXIT.stageFailure);
    });
};
