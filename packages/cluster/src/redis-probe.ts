import { Redis } from 'ioredis';
import { redactIn, redactUrl, redisOptions } from './urls';

/**
 * Connects once and PINGs, so that a wrong address, password or TLS setting is one clear
 * error at start-up instead of BullMQ reconnecting forever. Undefined when Redis answers,
 * else why not (credentials redacted).
 */
export async function probeRedis(url: string, timeoutMs = 10_000): Promise<string | undefined> {
  const client = new Redis({
    ...redisOptions(url),
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    connectTimeout: timeoutMs,
    enableOfflineQueue: false,
  });
  // The cause (WRONGPASS, ECONNREFUSED, a TLS error) arrives as an 'error' event; the
  // rejected promise then only says that the connection closed.
  let cause: Error | undefined;
  client.on('error', (err: Error) => {
    cause ??= err;
  });
  try {
    await client.connect();
    await client.ping();
    return undefined;
  } catch (err) {
    const message = cause?.message ?? (err instanceof Error ? err.message : String(err));
    return `cannot use Redis at ${redactUrl(url)}: ${redactIn(message, url)}`;
  } finally {
    client.disconnect();
  }
}
