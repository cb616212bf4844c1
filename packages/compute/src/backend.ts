import * as tf from '@tensorflow/tfjs-core';
import { registerWasmKernels } from './wasm/register';
import { threadCount } from './wasm/threads/settings';
import { backendLabel } from './label';
import { loadNativeBlas, nativeBlasActive } from './wasm/gemm/native';

/** The tfjs backends lth can run on, fastest first. */
export const BACKENDS = ['tensorflow', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKENDS)[number];

const MODULES: Record<BackendName, string> = {
  tensorflow: '@tensorflow/tfjs-node',
  wasm: '@tensorflow/tfjs-backend-wasm',
  cpu: '@tensorflow/tfjs-backend-cpu',
};

export interface BackendInfo {
  name: BackendName;
  /** Why this one: forced by LTH_BACKEND / an option, or the first available. */
  reason: string;
  /** Backends that could not be loaded, with the error. */
  unavailable: Partial<Record<BackendName, string>>;
}

const loadErrors: Partial<Record<BackendName, string>> = {};

/** Loads a backend's module (which registers it with tfjs); false when it is not installed. */
export function loadBackendModule(name: BackendName): boolean {
  if (tf.findBackendFactory(name)) return true;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    require(MODULES[name]);
    return tf.findBackendFactory(name) !== null;
  } catch (err) {
    loadErrors[name] = (err as Error).message.split('\n')[0] ?? String(err);
    return false;
  }
}

/** Backends whose module loads on this machine, fastest first. */
export function availableBackends(): BackendName[] {
  return BACKENDS.filter((b) => loadBackendModule(b));
}

function isBackendName(s: string): s is BackendName {
  return (BACKENDS as readonly string[]).includes(s);
}

let current: BackendInfo | undefined;

/**
 * Chooses and initializes the backend: `requested` (or the LTH_BACKEND variable) when given,
 * else tensorflow (tfjs-node) > wasm > cpu, the first that loads. A forced backend that
 * cannot load is an error, never a silent fallback.
 */
export async function initBackend(requested?: string): Promise<BackendInfo> {
  const forced = requested ?? process.env['LTH_BACKEND'] ?? undefined;
  if (forced !== undefined && forced !== '') {
    if (!isBackendName(forced)) throw new Error(`unknown backend '${forced}' (LTH_BACKEND); valid: ${BACKENDS.join(', ')}`);
    if (!loadBackendModule(forced)) {
      throw new Error(`backend '${forced}' was requested but ${MODULES[forced]} cannot be loaded: ${loadErrors[forced] ?? 'not registered'}`);
    }
    await activate(forced);
    current = { name: forced, reason: requested ? 'requested' : 'forced by LTH_BACKEND', unavailable: { ...loadErrors } };
    return current;
  }
  for (const name of BACKENDS) {
    if (!loadBackendModule(name)) continue;
    if (
      await activate(name).then(
        () => true,
        () => false,
      )
    ) {
      current = { name, reason: 'fastest available', unavailable: { ...loadErrors } };
      return current;
    }
  }
  throw new Error('no tfjs backend could be initialized');
}

async function activate(name: BackendName): Promise<void> {
  if (tf.getBackend() === name && current?.name === name) return;
  if (name === 'wasm') {
    // A bad LTH_THREADS is an error at setup, not in the middle of a training step.
    threadCount();
    // Registers the fast convolution-gradient kernels before the first use of the backend.
    registerWasmKernels();
  }
  const ok = await tf.setBackend(name);
  if (!ok) throw new Error(`tfjs could not initialize backend '${name}'`);
  await tf.ready();
  quietCpuBackend();
}

/**
 * tfjs-backend-cpu prints a banner advising tfjs-node on its first tensor in Node. The choice
 * is already reported (describeBackend), and the banner would land in every test and log.
 */
export function quietCpuBackend(): void {
  const cpu = tf.findBackend('cpu') as { firstUse?: boolean } | null;
  if (cpu && 'firstUse' in cpu) cpu.firstUse = false;
}

/** The active backend, initializing the default one on first use. */
let initializing: Promise<BackendInfo> | undefined;

/**
 * The active backend, initializing it once if nothing has. Concurrent callers (stages running
 * in one process) share one initialization: two interleaved ones could leave a stage running
 * on a backend that another had just replaced (seen as "backend.makeTensorInfo is not a
 * function", and runs recorded on "cpu, wasm").
 */
export async function ensureBackend(): Promise<BackendInfo> {
  if (current && tf.getBackend() === current.name) return current;
  if (!initializing) initializing = initBackend().finally(() => (initializing = undefined));
  return initializing;
}

/**
 * `StageDef.setup` for every stage that computes with tensors: the backend is chosen once per
 * process, before the stage's first run, and its name goes into the entry's metadata.
 */
export async function setupTensorBackend(): Promise<{ backend: string }> {
  const { name } = await ensureBackend();
  // LTH_NATIVE_BLAS=1 without a built addon is an error here, not in the middle of a step.
  if (name === 'wasm' && nativeBlasActive()) loadNativeBlas();
  return { backend: backendLabel() };
}

export function describeBackend(info: BackendInfo): string {
  const missing = Object.entries(info.unavailable).map(([k, v]) => `${k}: ${v}`);
  return `tfjs backend: ${info.name} (${info.reason})${missing.length ? `; unavailable: ${missing.join('; ')}` : ''}`;
}
