import { fork, type ChildProcess } from 'node:child_process';
import type { TaskTimings } from '@lth/artifacts';
import type { ArtifactStore, Entry } from '../cache/store';
import { UsageError } from '../definition/errors';
import type { Plan } from '../definition/plan';
import type { Registry } from '../definition/registry';
import { nodeArgsForSources, ownModule } from './dev';
import type { Executor } from './executor';
import type { StageTask, TaskHooks } from './task';
import { threadBudget } from './threads';
import type { FromWorker, ToWorker } from './worker';

interface Slot {
  child: ChildProcess;
  busy: boolean;
  /** Date.now() of the fork, until the worker's first task carries it (to time its start-up). */
  forkedAt?: number;
  /** The thread budget last sent to its running stage. */
  threads?: string;
}

/**
 * A pool of worker processes (`child_process.fork` of worker.js), one task per worker at a
 * time, so CPU-bound stages really run in parallel. Workers are started on demand and kept
 * for the next task. A worker that dies fails only its own task. Each task carries the
 * registry's module files, and the worker loads exactly those (nothing from its environment),
 * so it knows every stage the coordinator knows that came from a module; a stage added in
 * code (no module) is refused before the run starts.
 *
 * Each running stage gets a thread budget (threads.ts: the cores shared out among the stages
 * running). It is sent with the task and again whenever a stage starts or ends, so a stage
 * that started alone with both cores drops to one when a second starts, and goes back up when
 * that one ends: the worker sets LTH_THREADS, which the kernels read at their next large
 * product (a stage busy in one long synchronous call keeps its budget until it yields).
 */
export class ProcessExecutor implements Executor {
  private readonly pool: Slot[] = [];

  constructor(
    private readonly registry: Registry,
    private readonly store: ArtifactStore,
    readonly slots: number,
    private readonly env: NodeJS.ProcessEnv = process.env,
    /** The cores the thread budgets share out (tests pass their own). */
    private readonly cores?: number,
  ) {}

  /** Sends every running stage its share of the cores, where it changed. */
  private shareCores(): void {
    const busy = this.pool.filter((s) => s.busy);
    const threads = threadBudget(busy.length, this.env, this.cores);
    for (const s of busy) {
      if (s.threads === threads) continue;
      s.threads = threads;
      send(s.child, { type: 'threads', threads });
    }
  }

  prepare(plan: Plan): void {
    const moduleless = [...new Set(plan.nodes.map((n) => n.uses))].filter((id) => !this.registry.get(id)?.module);
    if (moduleless.length) throw new UsageError(moduleless.map(notInAModule).join('\n'));
  }

  private take(): Slot {
    const free = this.pool.find((s) => !s.busy && s.child.connected);
    if (free) return free;
    const forkedAt = Date.now();
    const child = fork(ownModule('worker'), [], {
      execArgv: [...process.execArgv.filter((a) => !a.startsWith('--inspect')), ...nodeArgsForSources()],
      env: this.env,
      // A stage's stdout goes to our stderr: stdout carries `lth run --json` output only.
      stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
    });
    child.stdout?.pipe(process.stderr, { end: false });
    const slot: Slot = { child, busy: false, forkedAt };
    this.pool.push(slot);
    child.on('exit', () => {
      const i = this.pool.indexOf(slot);
      if (i >= 0) this.pool.splice(i, 1);
    });
    return slot;
  }

  run(task: StageTask, hooks: TaskHooks): Promise<Entry> {
    if (!this.registry.get(task.uses)?.module) return Promise.reject(new UsageError(notInAModule(task.uses)));
    const slot = this.take();
    slot.busy = true;
    const { child } = slot;
    return new Promise<Entry>((resolve, reject) => {
      let settled = false;
      let killTimer: NodeJS.Timeout | undefined;
      const finish = (err?: Error, timings?: TaskTimings) => {
        if (settled) return;
        settled = true;
        slot.busy = false;
        slot.threads = undefined;
        this.shareCores();
        child.off('message', onMessage);
        child.off('exit', onExit);
        hooks.signal.removeEventListener('abort', onAbort);
        if (killTimer) clearTimeout(killTimer);
        if (err) return reject(err);
        const t0 = performance.now();
        this.store.get(task.key).then((e) => {
          if (!e) return reject(new Error(`worker reported success but entry ${task.key.slice(0, 12)} is missing or corrupt`));
          resolve(timings ? { ...e, timings: { ...timings, verifyMs: performance.now() - t0 } } : e);
        }, reject);
      };
      const onMessage = (m: FromWorker) => {
        if (m.type === 'log') hooks.log(m.message);
        else if (m.type === 'progress') {
          // Everything but the tag: intermediate `iteration` / `values` cross over too.
          const { type: _type, ...progress } = m;
          hooks.progress(progress);
        } else if (m.type === 'done') finish(undefined, m.timings);
        else if (m.type === 'error') finish(new Error(m.message));
      };
      const onExit = (code: number | null, signal: string | null) =>
        finish(new Error(`worker process ${child.pid} exited (${signal ?? `code ${code}`}) while running the stage`));
      const onAbort = () => {
        send(child, { type: 'abort' });
        // A stage that ignores its abort signal is stopped by force.
        killTimer = setTimeout(() => child.kill('SIGKILL'), 5000);
      };
      child.on('message', onMessage);
      child.on('exit', onExit);
      if (hooks.signal.aborted) onAbort();
      else hooks.signal.addEventListener('abort', onAbort, { once: true });
      const forkedAt = slot.forkedAt;
      slot.forkedAt = undefined;
      const others = this.pool.filter((s) => s.busy && s !== slot).length;
      slot.threads = threadBudget(others + 1, this.env, this.cores);
      send(child, {
        type: 'run',
        task,
        storeRoot: this.store.root,
        modules: this.registry.modules(),
        threads: slot.threads,
        ...(forkedAt === undefined ? {} : { forkedAt }),
      });
      this.shareCores();
    });
  }

  async close(): Promise<void> {
    await Promise.all(
      this.pool.map(
        (s) =>
          new Promise<void>((resolve) => {
            if (s.child.exitCode !== null || s.child.signalCode !== null) return resolve();
            s.child.once('exit', () => resolve());
            s.child.disconnect();
            setTimeout(() => s.child.kill('SIGKILL'), 2000).unref();
          }),
      ),
    );
  }
}

function notInAModule(id: string): string {
  return `stage '${id}' was registered in code (registry.add), not by a stage module, so a worker process cannot load it: run with --in-process (InProcessExecutor), or export it from a stage module (the pipeline's plugins:, or LTH_STAGE_MODULES)`;
}

function send(child: ChildProcess, m: ToWorker): void {
  if (child.connected) child.send(m);
}
