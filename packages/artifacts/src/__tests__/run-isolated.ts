import { spawn } from 'node:child_process';
import { join } from 'node:path';

/** Loads TypeScript sources in the child through SWC, as Jest does in this process. */
const REGISTER = `
const { readFileSync } = require('node:fs');
const { transformSync } = require('@swc/core');
require.extensions['.ts'] = (module, filename) => module._compile(transformSync(readFileSync(filename, 'utf8'), {
  filename, jsc: { target: 'es2022', parser: { syntax: 'typescript' } }, module: { type: 'commonjs' },
}).code, filename);
require(process.argv[1]);
`;

export interface Isolated {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  /** The last progress line: what the child was doing when it ended. */
  last: string;
  /** The end of its stderr (a crash report). */
  stderrTail: string;
  timedOut: boolean;
}

/**
 * Runs fuzz-child.ts with a heap cap and a kill timer: a read that hangs or exhausts the heap
 * ends the child (SIGKILL, or V8's out-of-memory abort) and the caller sees which input did it,
 * instead of Jest hanging. The limits are generous ceilings, not expectations of speed.
 */
export function runIsolated(args: string[], opts: { heapMb: number; timeoutMs: number }): Promise<Isolated> {
  const child = spawn(process.execPath, [`--max-old-space-size=${opts.heapMb}`, '-e', REGISTER, join(__dirname, 'fuzz-child.ts'), ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let last = '';
  let stderrTail = '';
  let timedOut = false;
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => {
    const text = d.toString();
    stderrTail = (stderrTail + text).slice(-2000);
    for (const line of text.split('\n')) if (line.startsWith('trying ')) last = line;
  });
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, opts.timeoutMs);
  return new Promise((resolve) => {
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, last, stderrTail, timedOut });
    });
  });
}
