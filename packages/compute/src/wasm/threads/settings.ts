/**
 * How many threads our wasm kernels may use: `setThreads(n)` when called, else the LTH_THREADS
 * environment variable, else 1. The variable is read on every parallel-sized kernel call (as
 * LTH_WINOGRAD is), not once per process: a pipeline worker process runs one stage after
 * another, and the ProcessExecutor hands each its own budget in LTH_THREADS (cores / stages
 * running when it starts).
 *
 * The thread count never changes a result (every output element is accumulated in the same
 * order whatever the split: see gemm/parallel.ts), so it enters no cache key.
 */

/** More than this is surely a typo (the pool starts one worker thread per extra thread). */
export const MAX_THREADS = 64;

let explicit: number | undefined;

/** Parses a thread count; an error naming `source` for anything but a whole number in 1..64. */
export function parseThreads(value: string, source: string): number {
  const n = Number(value);
  if (!/^\s*\d+\s*$/.test(value) || !Number.isInteger(n) || n < 1 || n > MAX_THREADS) {
    throw new Error(`${source} must be a whole number from 1 to ${MAX_THREADS}, got '${value}'`);
  }
  return n;
}

/** The thread count in force (see the module comment). */
export function threadCount(): number {
  if (explicit !== undefined) return explicit;
  const env = process.env['LTH_THREADS'];
  return env === undefined || env === '' ? 1 : parseThreads(env, 'LTH_THREADS');
}

/**
 * Sets the thread count for this process (overrides LTH_THREADS); `undefined` goes back to the
 * variable. Returns the previous explicit setting.
 */
export function setThreads(n: number | undefined): number | undefined {
  if (n !== undefined) parseThreads(String(n), 'setThreads(n)');
  const previous = explicit;
  explicit = n;
  return previous;
}
