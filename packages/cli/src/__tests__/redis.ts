import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Debian's redis-server (`.ci/run` installs it); tests that need it skip, saying why, without it. */
export const REDIS_SERVER = ['/usr/bin/redis-server', '/usr/local/bin/redis-server'].find((p) => existsSync(p));

/** A free loopback port: bound by the OS, released, then handed to redis-server (it has no --port 0). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export interface TestRedis {
  url: string;
  port: number;
  stop(): Promise<void>;
  /** Starts it again on the same port (no persistence: the data is gone, as after a crash). */
  start(): Promise<void>;
}

/**
 * A real redis-server on 127.0.0.1 in a temp directory, no persistence; `password` sets
 * requirepass; `tls` serves only TLS with a fresh self-signed certificate for 127.0.0.1
 * (clients trust it through NODE_EXTRA_CA_CERTS=`ca`).
 */
export async function startRedis(password?: string, tls = false): Promise<TestRedis & { ca?: string }> {
  if (!REDIS_SERVER) throw new Error('redis-server is not installed');
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'lth-redis-'));
  let child: ChildProcess | undefined;
  const ca = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  if (tls) {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        key,
        '-out',
        ca,
        '-days',
        '1',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
      ],
      { stdio: 'ignore' },
    );
  }
  const listen = tls
    ? ['--port', '0', '--tls-port', String(port), '--tls-cert-file', ca, '--tls-key-file', key, '--tls-ca-cert-file', ca, '--tls-auth-clients', 'no']
    : ['--port', String(port)];
  const start = async () => {
    const args = [...listen, '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, ...(password ? ['--requirepass', password] : [])];
    const c = spawn(REDIS_SERVER, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child = c;
    let out = '';
    await new Promise<void>((resolve, reject) => {
      c.stdout?.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('Ready to accept connections')) resolve();
      });
      c.on('exit', (code) => reject(new Error(`redis-server exited (${code}): ${out.slice(-500)}`)));
    });
  };
  const stop = async () => {
    const c = child;
    if (!c || c.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      c.once('exit', () => resolve());
      c.kill('SIGTERM');
    });
  };
  await start();
  const auth = password ? `:${encodeURIComponent(password)}@` : '';
  return { url: `${tls ? 'rediss' : 'redis'}://${auth}127.0.0.1:${port}`, port, stop, start, ...(tls ? { ca } : {}) };
}
