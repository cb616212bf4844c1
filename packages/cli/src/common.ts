import { CommanderError, type Command } from 'commander';
import { PathEscapeError } from '@lth/artifacts';
import { formatDiagnostic, PipelineError, UsageError } from '@lth/pipeline';

/**
 * Exit codes (docs/PIPELINES.md, "Commands"): 0 success, 1 a stage failed (or `cache verify`
 * found corruption), 2 invalid input (pipeline file, flags), 3 an internal error of lth itself
 * (a bug or an environment problem: message only, the stack with LTH_DEBUG=1), 130 interrupted.
 */
export const EXIT = { ok: 0, stageFailure: 1, invalid: 2, internal: 3, interrupted: 130 } as const;

/** An unexpected error: one line naming it, the stack trace only with LTH_DEBUG=1. */
export function describeInternalError(err: unknown): string {
  const debug = process.env.LTH_DEBUG === '1';
  const text = err instanceof Error ? (debug ? (err.stack ?? err.message) : `${err.name === 'Error' ? '' : `${err.name}: `}${err.message}`) : String(err);
  return `lth: internal error: ${text}${debug ? '' : ' (LTH_DEBUG=1 shows the stack trace)'}\n`;
}

export interface Io {
  out(text: string): void;
  err(text: string): void;
  /** Whether stderr is a terminal (progress bars) . */
  tty: boolean;
}

export const processIo: Io = {
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
  tty: Boolean(process.stderr.isTTY),
};

/** Commander collects repeated `--set k=v` / `--force S` into lists. */
export function collect(value: string, prev: string[] = []): string[] {
  return [...prev, value];
}

export function positiveInt(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new UsageError(`${name} must be a positive integer, got '${v}'`);
    return n;
  };
}

export function nonNegativeInt(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0) throw new UsageError(`${name} must be an integer >= 0, got '${v}'`);
    return n;
  };
}

export const MAX_DIAGNOSTICS_SHOWN = 100;

/** Maps an error thrown by a command to a message and exit code. */
export function exitCodeFor(err: unknown, io: Io): number {
  if (err instanceof CommanderError) {
    return err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help' ? EXIT.ok : EXIT.invalid;
  }
  if (err instanceof PipelineError) {
    // A file within the limits can still hold thousands of errors (say, 50,000 unknown keys):
    // the first ones say what is wrong, the rest would bury them.
    const n = err.diagnostics.length;
    const shown = err.diagnostics.slice(0, MAX_DIAGNOSTICS_SHOWN).map(formatDiagnostic);
    if (n > shown.length) shown.push(`... and ${n - shown.length} more`);
    io.err(`${shown.join('\n')}\n${n} error${n === 1 ? '' : 's'}; nothing was run\n`);
    return EXIT.invalid;
  }
  if (err instanceof UsageError || err instanceof PathEscapeError) {
    io.err(`lth: ${err.message}\n`);
    return EXIT.invalid;
  }
  io.err(describeInternalError(err));
  return EXIT.internal;
}

export type Register = (program: Command, io: Io, setExit: (code: number) => void) => void;

/**
 * Ctrl-C handling shared by long commands: the first SIGINT aborts the returned signal (running
 * stages stop, completed ones stay cached) after printing `note`; a second one exits at once.
 * Call `release()` when the command ends.
 */
export function interruptOnSigint(say: (message: string) => void, note: string): { signal: AbortSignal; release: () => void } {
  const abort = new AbortController();
  const onSigint = () => {
    if (abort.signal.aborted) process.exit(EXIT.interrupted);
    say(note);
    abort.abort();
  };
  process.on('SIGINT', onSigint);
  return { signal: abort.signal, release: () => process.off('SIGINT', onSigint) };
}
