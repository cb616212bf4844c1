import { isIP } from 'node:net';
import type { RedisOptions } from 'bullmq';
import { UsageError } from '@lth/pipeline';

/**
 * A URL as it may appear in logs, messages and run records: the password (and any secret
 * query parameter) replaced by `***`, so `redis://:s3cret@host` prints as `redis://:***@host`.
 */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    for (const k of [...u.searchParams.keys()]) {
      if (/secret|token|password|key|signature|credential/i.test(k)) u.searchParams.set(k, '***');
    }
    return u.toString();
  } catch {
    // Not parseable: hide everything between '//' and '@' (where credentials would be).
    return url.replace(/\/\/[^/@]*@/, '//***@');
  }
}

/** Replaces every occurrence of the URL's password in `text` (error messages of clients). */
export function redactIn(text: string, url: string | undefined): string {
  if (!url) return text;
  try {
    const { password } = new URL(url);
    let out = text.split(url).join(redactUrl(url));
    if (password) out = out.split(decodeURIComponent(password)).join('***').split(password).join('***');
    return out;
  } catch {
    return text;
  }
}

export type RemoteUrl = { kind: 'file'; dir: string } | { kind: 's3'; bucket: string; prefix: string };

/** `file:///shared/dir` or `s3://bucket/prefix`; anything else is a usage error naming the flag. */
export function parseRemoteUrl(url: string, flag = '--remote'): RemoteUrl {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new UsageError(`${flag}: '${redactUrl(url)}' is not a URL (expected file:///shared/dir or s3://bucket/prefix)`);
  }
  if (u.protocol === 'file:') {
    if (u.host && u.host !== 'localhost') throw new UsageError(`${flag}: file URLs name a local path (file:///dir), not host '${u.host}'`);
    const dir = decodeURIComponent(u.pathname);
    if (!dir || dir === '/') throw new UsageError(`${flag}: ${url} names no directory`);
    return { kind: 'file', dir };
  }
  if (u.protocol === 's3:') {
    if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(u.hostname)) throw new UsageError(`${flag}: '${u.hostname}' is not an S3 bucket name`);
    if (u.username || u.password)
      throw new UsageError(`${flag}: put no credentials in an s3:// URL; use AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY or an AWS profile`);
    const prefix = decodeURIComponent(u.pathname).replace(/^\/+|\/+$/g, '');
    return { kind: 's3', bucket: u.hostname, prefix };
  }
  throw new UsageError(`${flag}: unsupported scheme '${u.protocol}' in ${redactUrl(url)} (expected file:// or s3://)`);
}

/** Connection options for BullMQ (and ioredis) from `redis://[user:pass@]host[:port][/db]` or `rediss://` (TLS). */
export function redisOptions(url: string, flag = '--queue'): RedisOptions {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new UsageError(`${flag}: '${redactUrl(url)}' is not a URL (expected redis://host:port or rediss://host:port)`);
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') throw new UsageError(`${flag}: unsupported scheme '${u.protocol}' (expected redis:// or rediss://)`);
  const db = u.pathname.replace(/^\//, '');
  if (db && !/^\d+$/.test(db)) throw new UsageError(`${flag}: database '${db}' in ${redactUrl(url)} is not a number`);
  return {
    host: u.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1',
    port: u.port ? Number(u.port) : 6379,
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    ...(db ? { db: Number(db) } : {}),
    // TLS: the certificate is checked against the host (name or IP) with the system CAs or
    // NODE_EXTRA_CA_CERTS; SNI carries host names only.
    ...(u.protocol === 'rediss:' ? { tls: isIP(u.hostname.replace(/^\[|\]$/g, '')) ? {} : { servername: u.hostname } } : {}),
    // BullMQ needs blocking commands to wait through a reconnection rather than fail.
    maxRetriesPerRequest: null,
  };
}
