import { availableParallelism } from 'node:os';

/**
 * How many threads a stage's kernels may use while `running` stages (itself included) run at
 * once: the machine's cores shared out, at least 1 (a lone stage gets the whole machine, two on
 * two cores a core each). A user's own LTH_THREADS (in the executor's environment) wins. The
 * engine imports no tensor package: the budget reaches the stage as the LTH_THREADS variable,
 * which @lth/compute reads. A thread count changes no result, so it is in no cache key.
 */
export function threadBudget(running: number, env: NodeJS.ProcessEnv, cores = availableParallelism()): string {
  const fixed = env['LTH_THREADS'];
  if (fixed !== undefined && fixed !== '') return fixed;
  return String(Math.max(1, Math.floor(cores / Math.max(1, running))));
}
