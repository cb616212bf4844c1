import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nodeArgsForSources } from '@lth/pipeline/testing';
import { main } from '../program';

/** The engine's test-only stages (test/work, test/collect, ...), loaded through LTH_STAGE_MODULES. */
export const FIXTURES = join(__dirname, '..', '..', '..', 'pipeline', 'src', '__tests__', 'fixtures', 'stages.ts');
const BIN = join(__dirname, '..', 'bin.ts');

export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'lth-cli-'));
}

export function writeFile(dir: string, name: string, text: string): string {
  const f = join(dir, name);
  writeFileSync(f, text);
  return f;
}

export function testEnv(log: string, extra: Record<string, string> = {}): Record<string, string> {
  return { LTH_STAGE_MODULES: FIXTURES, LTH_BUILTIN_STAGES: '0', LTH_BACKEND: 'cpu', LTH_TEST_LOG: log, ...extra };
}

/** Runs the CLI in this process (fast); stdout/stderr captured. */
export async function lth(argv: string[], env: Record<string, string>): Promise<{ code: number; out: string; err: string }> {
  const saved: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(env)) {
    saved[k] = process.env[k];
    process.env[k] = v;
  }
  let out = '';
  let err = '';
  try {
    const code = await main(argv, { out: (t) => void (out += t), err: (t) => void (err += t), tty: false });
    return { code, out, err };
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

export interface Spawned {
  child: ChildProcess;
  out: () => string;
  err: () => string;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Runs `lth` as its own process group (so a test can kill it with its workers). */
export function spawnLth(argv: string[], env: Record<string, string>, cwd: string): Spawned {
  const child = spawn(process.execPath, [...nodeArgsForSources(), BIN, ...argv], {
    cwd,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let out = '';
  let err = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
  return { child, out: () => out, err: () => err, exit };
}

export async function waitFor(cond: () => boolean, what: string, timeoutMs = 60_000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export function calls(log: string): Array<{ tag: string; pid: number; start: number; end: number }> {
  if (!existsSync(log)) return [];
  return readFileSync(log, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
}
