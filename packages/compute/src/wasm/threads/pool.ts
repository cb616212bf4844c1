import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import type { WasmModule } from '../asm';
import { WORKER_SOURCE } from './worker-source';

/**
 * Worker threads for our hand-assembled wasm kernels, started once and kept: each blocks in
 * Atomics.wait between jobs, so a job costs a notify and a wait, never a thread start. They
 * work in a shared WebAssembly.Memory of their own (the arena): tfjs-backend-wasm's heap is
 * a plain (unshared) memory in its non-threaded build, the only one that loads in Node without
 * patching tfjs (see the package README, "Threads"), so a worker's operands are copied into
 * the arena and its results copied back (gemm/parallel.ts decides when that pays).
 *
 * The threads are unref'd (they never keep a process alive) and ended by stopThreads(), which
 * unregisterWasmKernels() calls.
 */

// The words of a worker's control slot (worker-source.ts reads the same layout).
const [SEQ, DONE, STATUS, WORDS, CALLS] = [0, 1, 2, 3, 4];
/** Words per slot: a job's calls must fit (a gemm over k = 16384 in chunks of 64: ~3,100 words). */
export const SLOT_INTS = 1 << 16;
const PAGE = 65536;
/** The arena's ceiling: a shared memory reserves its maximum address space up front. 1 GiB. */
const MAX_PAGES = 16384;
/** Past this a worker is taken for lost (a job takes milliseconds; this only ends a hang). */
const WAIT_LIMIT_MS = 300_000;

/** WebAssembly.Memory, shared (the project's TypeScript libs do not declare WebAssembly). */
interface SharedMemory {
  readonly buffer: SharedArrayBuffer;
  grow(pages: number): number;
}
type MemoryConstructor = new (d: { initial: number; maximum: number; shared: true }) => SharedMemory;
const Memory = (globalThis as unknown as { WebAssembly: { Memory: MemoryConstructor } }).WebAssembly.Memory;

interface Lane {
  worker: Worker;
  port: MessagePort;
  seq: number;
}

export class ThreadPool {
  /** The shared arena every worker's functions are instantiated on. */
  readonly memory: SharedMemory = new Memory({ initial: 1, maximum: MAX_PAGES, shared: true });
  private readonly control: Int32Array;
  private readonly lanes: Lane[];
  private readonly defined = new Map<WasmModule, number>();

  constructor(readonly workers: number) {
    const sab = new SharedArrayBuffer(workers * SLOT_INTS * 4);
    this.control = new Int32Array(sab);
    this.lanes = Array.from({ length: workers }, (_, slot) => {
      const { port1, port2 } = new MessageChannel();
      const worker = new Worker(WORKER_SOURCE, {
        eval: true,
        workerData: { control: sab, slot, slotInts: SLOT_INTS, memory: this.memory, port: port2 },
        transferList: [port2],
      });
      worker.unref();
      port1.unref();
      return { worker, port: port1, seq: 0 };
    });
  }

  /** Grows the arena to at least `bytes`; false past its 1 GiB ceiling. */
  reserve(bytes: number): boolean {
    const have = this.memory.buffer.byteLength;
    if (bytes <= have) return true;
    const pages = Math.ceil((bytes - have) / PAGE);
    if (have / PAGE + pages > MAX_PAGES) return false;
    this.memory.grow(pages);
    return true;
  }

  /** The arena's bytes (a new view: growing replaces the buffer). */
  bytes(): Uint8Array {
    return new Uint8Array(this.memory.buffer);
  }

  /** The id under which workers call export `name` of `module` (posted to them once). */
  define(module: WasmModule, name: string): number {
    let id = this.defined.get(module);
    if (id === undefined) {
      id = this.defined.size;
      this.defined.set(module, id);
      for (const lane of this.lanes) lane.port.postMessage({ id, module, name });
    }
    return id;
  }

  /** Starts `calls` ([id, argc, ...args] each) on worker `lane`; returns at once. */
  start(lane: number, calls: readonly number[]): void {
    if (calls.length > SLOT_INTS - CALLS) throw new Error(`wasm threads: a job of ${calls.length} words does not fit a slot (${SLOT_INTS - CALLS})`);
    const l = this.lanes[lane]!;
    const base = lane * SLOT_INTS;
    this.control.set(calls, base + CALLS);
    Atomics.store(this.control, base + WORDS, calls.length);
    l.seq = (l.seq % 0x3fffffff) + 1; // never 0 (a worker's start) nor -1 (stop)
    Atomics.store(this.control, base + SEQ, l.seq);
    Atomics.notify(this.control, base + SEQ);
  }

  /** Blocks until worker `lane` finished its job; throws what a failed call threw. */
  wait(lane: number): void {
    const l = this.lanes[lane]!;
    const base = lane * SLOT_INTS;
    const deadline = Date.now() + WAIT_LIMIT_MS;
    for (let done = Atomics.load(this.control, base + DONE); done !== l.seq; done = Atomics.load(this.control, base + DONE)) {
      if (Date.now() > deadline) throw new Error(`wasm threads: worker ${lane + 1} did not finish its job in ${WAIT_LIMIT_MS / 1000} s`);
      Atomics.wait(this.control, base + DONE, done, 1000);
    }
    if (Atomics.load(this.control, base + STATUS) !== 0) {
      const message = receiveMessageOnPort(l.port)?.message as string | undefined;
      throw new Error(`wasm threads: a call on worker ${lane + 1} failed: ${message ?? 'no message'}`);
    }
  }

  /** wait() on lanes 0..lanes-1, every one even after an error (a lane is reused only once idle); throws the first error. */
  waitAll(lanes: number): void {
    let first: unknown;
    for (let lane = 0; lane < lanes; lane++) {
      try {
        this.wait(lane);
      } catch (err) {
        first ??= err;
      }
    }
    if (first !== undefined) throw first;
  }

  /** Stops every worker (they leave their wait loop, then are terminated). */
  async close(): Promise<void> {
    this.lanes.forEach((_, lane) => {
      Atomics.store(this.control, lane * SLOT_INTS + SEQ, -1);
      Atomics.notify(this.control, lane * SLOT_INTS + SEQ);
    });
    await Promise.all(this.lanes.map((l) => l.worker.terminate()));
    for (const l of this.lanes) l.port.close();
  }
}

let pool: ThreadPool | undefined;

/** The process's pool with at least `workers` worker threads (a smaller one is replaced). */
export function threadPool(workers: number): ThreadPool {
  if (pool && pool.workers < workers) {
    void pool.close();
    pool = undefined;
  }
  return (pool ??= new ThreadPool(workers));
}

/** Ends the worker threads (a later parallel call starts new ones). */
export async function stopThreads(): Promise<void> {
  const p = pool;
  pool = undefined;
  await p?.close();
}

/** Whether worker threads are running (tests check teardown). */
export function threadsRunning(): number {
  return pool?.workers ?? 0;
}
