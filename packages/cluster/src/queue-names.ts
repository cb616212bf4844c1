/** The BullMQ queue that coordinators and workers share (keys `bull:lth-stages:*` in Redis). */
export const QUEUE_NAME = 'lth-stages';

/** Progress data a worker streams back through job.updateProgress / QueueEvents 'progress'. */
export type JobProgressData = { log: string } | { progress: Record<string, unknown> };

/**
 * How long a worker's lock on a running job lasts before the job counts as stalled and is
 * handed to another worker (a lost machine); the worker renews it at half this period.
 * LTH_QUEUE_LOCK_MS shortens it (tests), default 30 s.
 */
export function lockMs(env: NodeJS.ProcessEnv = process.env): number {
  const v = Number(env['LTH_QUEUE_LOCK_MS'] ?? '');
  return Number.isInteger(v) && v >= 1000 ? v : 30_000;
}
