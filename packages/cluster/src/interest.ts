import { Redis } from 'ioredis';
import { redisOptions } from './urls';

/** Which runs want a job: a set of run ids (beside BullMQ's own keys `bull:lth-stages:*`). */
export const wantsKey = (key: string) => `lth:wants:${key}`;
/** Set when the last run that wanted a job cancelled it: the job's worker stops its stage. */
export const cancelledKey = (key: string) => `lth:cancelled:${key}`;
/**
 * How long both keys outlive the last word of a coordinator. A coordinator refreshes its jobs'
 * sets while it waits, so only a coordinator that died (SIGKILL, lost machine) leaves its
 * interest behind: its running jobs then go on (their entries are useful) until it expires.
 */
export const INTEREST_TTL_S = 24 * 3600;
/** The start of the failure reason of a job stopped because no run wants it any more. */
export const CANCELLED = 'cancelled:';

// SREM, then, when no run is left, the marker; atomic (a script runs alone), so a run that
// joins at the same moment either is counted here or finds the marker and clears it.
const CANCEL_SCRIPT = `
redis.call('SREM', KEYS[1], ARGV[1])
if redis.call('SCARD', KEYS[1]) == 0 then
  redis.call('SET', KEYS[2], ARGV[1], 'EX', tonumber(ARGV[2]))
  return 1
end
return 0`;

/**
 * The cancel channel between coordinators and workers. The job id is the cache key, so two
 * coordinators running overlapping pipelines share one job: Ctrl-C on one must stop the
 * stage only when no other run still wants it. Each coordinator adds its run id to the job's
 * set before it enqueues or joins the job, removes it when it stops waiting, and on Ctrl-C
 * removes it and, if it was the last, sets the cancel marker. A worker polls the marker and
 * the set of each job it runs (one round trip a second per running job) and aborts the stage
 * when the marker is set and the set is empty.
 *
 * Keys that are polled rather than Redis pub/sub: a published message reaches only the
 * subscribers connected at that instant, so a worker reconnecting after a network blip, or
 * taking the job a moment after the message, would miss it and compute a stage nobody wants;
 * a key is still there when the worker looks, survives reconnections (ioredis queues the
 * command until Redis is back), and needs no subscriber connection or channel ACL.
 */
export class JobInterest {
  private readonly redis: Redis;

  constructor(queueUrl: string, onError: (err: Error) => void) {
    this.redis = new Redis(redisOptions(queueUrl));
    this.redis.on('error', onError);
  }

  /** This run wants the job (again): it counts, and a cancellation by others is void. */
  async want(key: string, runId: string): Promise<void> {
    await this.redis.multi().sadd(wantsKey(key), runId).expire(wantsKey(key), INTEREST_TTL_S).del(cancelledKey(key)).exec();
  }

  /** Still waiting: keep the set from expiring. */
  async refresh(key: string): Promise<void> {
    await this.redis.expire(wantsKey(key), INTEREST_TTL_S);
  }

  /** This run no longer waits for the job (it finished, or failed for good). */
  async leave(key: string, runId: string): Promise<void> {
    await this.redis.srem(wantsKey(key), runId);
  }

  /** Ctrl-C: this run no longer wants the job. True when no run does any more (the job is then to be stopped). */
  async cancel(key: string, runId: string): Promise<boolean> {
    return (await this.redis.eval(CANCEL_SCRIPT, 2, wantsKey(key), cancelledKey(key), runId, String(INTEREST_TTL_S))) === 1;
  }

  /** True when the job was cancelled and no run wants it since. */
  async isCancelled(key: string): Promise<boolean> {
    const r = await this.redis.multi().exists(cancelledKey(key)).scard(wantsKey(key)).exec();
    return r?.[0]?.[1] === 1 && r?.[1]?.[1] === 0;
  }

  /** Every command was awaited: nothing is left to flush (and QUIT would wait for a Redis that is down). */
  close(): void {
    this.redis.disconnect();
  }
}

/**
 * Polls the jobs `running()` returns, one after the other, every `pollMs`, and calls
 * `onCancelled` for each that was cancelled. Errors (Redis down) are skipped: the next round
 * asks again. Returns the function that stops it.
 */
export function watchCancellations(interest: JobInterest, running: () => string[], onCancelled: (key: string) => void, pollMs: number): () => void {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const round = async () => {
    for (const key of running()) {
      if (stopped) return;
      if (await interest.isCancelled(key).catch(() => false)) onCancelled(key);
    }
    if (!stopped) {
      timer = setTimeout(() => void round(), pollMs);
      timer.unref();
    }
  };
  timer = setTimeout(() => void round(), pollMs);
  timer.unref();
  return () => {
    stopped = true;
    if (timer) clearTimeout(timer);
  };
}
