import { configJsonSchema, listRunRecords, readRunRecord, resolveCacheDir, UsageError, type RunRecord } from '@lth/pipeline';
import type * as Data from '@lth/data';
import type * as Models from '@lth/models';
import type { Register } from '../common';
import { cliRegistry } from '../stage-modules';

// @lth/models and @lth/data load tfjs, which most commands never need: required on first use,
// typed by their declarations.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const loadModels = (): typeof Models => require('@lth/models') as typeof Models;
// eslint-disable-next-line @typescript-eslint/no-require-imports
const loadData = (): typeof Data => require('@lth/data') as typeof Data;

export const registerStages: Register = (program, io) => {
  program
    .command('stages')
    .description('registered stages: ids, ports and config JSON schemas')
    .option('--json', 'print JSON')
    .action((opts: { json?: boolean }) => {
      const registry = cliRegistry();
      const list = registry.all().map(({ def, package: pkg }) => ({
        id: def.id,
        package: pkg,
        description: def.description,
        inputs: def.inputs,
        outputs: def.outputs,
        config: configJsonSchema(def),
      }));
      if (opts.json) return io.out(`${JSON.stringify({ stages: list, problems: registry.problems() }, null, 2)}\n`);
      for (const s of list) {
        const ports = (p: Record<string, { kind: string; many?: boolean; optional?: boolean }>) =>
          Object.entries(p)
            .map(([k, v]) => `${k}${v.optional ? '?' : ''}: ${v.kind}${v.many ? '[]' : ''}`)
            .join(', ') || '-';
        io.out(`${s.id}  (${s.package})\n  ${s.description}\n  inputs:  ${ports(s.inputs)}\n  outputs: ${ports(s.outputs)}\n`);
        io.out(`  config:  ${JSON.stringify(s.config)}\n`);
      }
      for (const p of registry.problems()) io.err(`warning: ${p}\n`);
    });
};

export const registerModels: Register = (program, io) => {
  program
    .command('models')
    .description('the model zoo: architectures with parameter counts')
    .option('--json', 'print JSON')
    .action((opts: { json?: boolean }) => {
      const list = loadModels().listModels();
      if (opts.json) return io.out(`${JSON.stringify(list, null, 2)}\n`);
      for (const m of list) io.out(`${m.name.padEnd(16)} ${String(m.params.total).padStart(10)} params, ${String(m.params.prunable).padStart(10)} prunable\n`);
    });
};

/** A dataset manifest that is missing or invalid is bad input (exit 2), named with its file and field. */
async function manifestsAsInput<T>(f: () => T | Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (err) {
    if (err instanceof Error && (err.name === 'ManifestError' || err.name === 'PathEscapeError')) throw new UsageError(err.message);
    throw err;
  }
}

export const registerDatasets: Register = (program, io) => {
  // How the download cache was chosen, in words (the rules are in @lth/data's paths.ts).
  const RULES: Record<string, string> = {
    LTH_DATA_DIR: 'set by LTH_DATA_DIR',
    checkout: 'in the lth checkout; LTH_DATA_DIR overrides',
    XDG_CACHE_HOME: 'under XDG_CACHE_HOME; LTH_DATA_DIR overrides',
    home: 'the per-user cache; LTH_DATA_DIR or XDG_CACHE_HOME override',
  };
  const ds = program
    .command('datasets')
    .description('datasets and where their files would come from (cache, local, download)')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      const list = await manifestsAsInput(() => loadData().listDatasets());
      if (opts.json) return io.out(`${JSON.stringify(list, null, 2)}\n`);
      // Widths from the longest value, so long names (custom manifests) keep the columns aligned.
      const nameWidth = Math.max(...list.map((d) => d.name.length), 4);
      const sourceWidth = Math.max(...list.map((d) => d.source.length), 6);
      for (const d of list) io.out(`${d.name.padEnd(nameWidth)}  ${d.source.padEnd(sourceWidth)}  ${d.description}\n`);
      const cache = loadData().cacheDirChoice();
      if (cache) io.out(`\ndownloads are cached in ${cache.dir} (${RULES[cache.rule] ?? cache.rule})\n`);
    });
  ds.command('show')
    .description('load a dataset and count examples per split and class')
    .argument('<name>', 'dataset name')
    .option('--json', 'print JSON')
    .action(async (name: string, opts: { json?: boolean }) => {
      const d = await manifestsAsInput(() => loadData().describeDataset(name));
      io.out(opts.json ? `${JSON.stringify(d, null, 2)}\n` : `${JSON.stringify(d, null, 2)}\n`);
    });
};

export const registerReport: Register = (program, io, setExit) => {
  program
    .command('report')
    .description('print where the report (or outputs) of a run are')
    .argument('[run]', 'run record file, a run name (newest run of that pipeline), or nothing for the newest run')
    .option('--cache-dir <dir>', 'cache directory (default: $LTH_CACHE_DIR or .lth/cache)')
    .option('--json', 'print JSON: run name, status, record file and report path (null when there is none)')
    .action((run: string | undefined, opts: { cacheDir?: string; json?: boolean }) => {
      const cacheDir = resolveCacheDir(opts.cacheDir);
      // Invalid records (e.g. `{}`, truncated) are skipped with a warning naming the file.
      const runs = listRunRecords(cacheDir, (m) => io.err(`warning: ${m}\n`));
      let rec: RunRecord | undefined;
      if (run && run.endsWith('.json')) {
        rec = runs.find((r) => r.file === run || r.file.endsWith(`/${run}`))?.record;
        if (!rec && !runs.some((r) => r.file === run || r.file.endsWith(`/${run}`))) {
          const read = readRunRecord(run);
          if ('problem' in read) throw new UsageError(`${run}: ${read.problem}`);
          rec = read.record;
        }
      } else rec = runs.find((r) => !run || r.record.name === run)?.record;
      if (!rec)
        throw new UsageError(
          `no run record${run ? ` '${run}'` : ''} in ${cacheDir}/runs; runs: ${
            runs
              .slice(0, 10)
              .map((r) => r.record.name)
              .join(', ') || '(none)'
          }`,
        );
      if (opts.json) {
        io.out(`${JSON.stringify({ name: rec.name, status: rec.status, recordFile: rec.recordFile ?? null, report: rec.report ?? null }, null, 2)}\n`);
        return setExit(rec.report ? 0 : 1);
      }
      if (!rec.report) {
        io.err(`run ${rec.name} (${rec.status}) has no report or outputs\n`);
        return setExit(1);
      }
      io.out(`${rec.report}\n`);
    });
};
