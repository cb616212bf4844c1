import { availableParallelism } from 'node:os';
import type { LocalStore } from '../cache/store';
import type { Registry } from '../definition/registry';
import type { Executor } from './executor';
import { InProcessExecutor } from './in-process';
import { ProcessExecutor } from './process';

export function defaultJobs(): number {
  return Math.max(1, availableParallelism());
}

/**
 * The executor for `jobs`: worker processes by default (real parallelism, and a crashing
 * stage cannot take the run down), in-process when `inProcess` (debugging, tests).
 */
export function createExecutor(opts: { registry: Registry; store: LocalStore; jobs?: number; inProcess?: boolean }): Executor {
  const jobs = Math.max(1, opts.jobs ?? defaultJobs());
  return opts.inProcess ? new InProcessExecutor(opts.registry, opts.store, jobs) : new ProcessExecutor(opts.registry, opts.store, jobs);
}
