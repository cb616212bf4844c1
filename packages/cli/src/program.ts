import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { exitCodeFor, processIo, type Io } from './common';
import { registerCache } from './commands/cache';
import { registerCacheRemote } from './commands/cache-remote';
import { registerDatasets, registerModels, registerReport, registerStages } from './commands/catalog';
import { registerExport } from './commands/export';
import { registerGraph, registerStatus } from './commands/inspect';
import { registerRun } from './commands/run';
import { registerSweep } from './commands/sweep';
import { registerWorker } from './commands/worker';

/** This package's version: package.json sits one level above both src/ and dist/. */
export function cliVersion(): string {
  return (JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8')) as { version: string }).version;
}

export function buildProgram(io: Io, setExit: (code: number) => void): Command {
  const program = new Command('lth')
    .description('lottery-ticket experiments as declarative pipelines with a content-addressed cache')
    .version(cliVersion(), '-V, --version', 'print the version of lth')
    .showHelpAfterError()
    .configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s) })
    .exitOverride();
  for (const register of [
    registerRun,
    registerWorker,
    registerSweep,
    registerStatus,
    registerGraph,
    registerCache,
    registerCacheRemote,
    registerStages,
    registerModels,
    registerDatasets,
    registerReport,
    registerExport,
  ]) {
    register(program, io, setExit);
  }
  // exitOverride is not inherited by subcommands added before it was set on them.
  const override = (c: Command): void => {
    c.exitOverride();
    c.configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s) });
    c.commands.forEach(override);
  };
  program.commands.forEach(override);
  return program;
}

/** Runs the CLI; resolves to the exit code (EXIT in common.ts: 0 ok, 1 stage failure, 2 invalid input, 3 internal error, 130 interrupted). */
export async function main(argv: string[], io: Io = processIo): Promise<number> {
  let code = 0;
  const program = buildProgram(io, (c) => {
    code = c;
  });
  try {
    await program.parseAsync(argv, { from: 'user' });
    return code;
  } catch (err) {
    return exitCodeFor(err, io);
  }
}
