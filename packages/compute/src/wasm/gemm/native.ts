import { join } from 'node:path';

/**
 * Optional native products: `LTH_NATIVE_BLAS=1` (or `useNativeBlas(true)`) sends the dense
 * products of the wasm backend (BatchMatMul, _FusedMatMul; matmul.ts) to OpenBLAS's
 * `cblas_sgemm`, called by a small N-API addon (`native/sgemm.cc`) on tfjs-backend-wasm's own
 * heap, so nothing is copied. Why: wasm SIMD is 128-bit without FMA; on the project's AMD EPYC
 * one core's [500,784]x[784,300] runs at ~12 GFLOP/s in wasm and ~32 in OpenBLAS, and the
 * products are most of a LeNet experiment (docs/RESULTS.md). The Winograd convolutions keep
 * their wasm transforms and send their point products here too (conv/winograd*.ts).
 *
 * Opt-in, because the addon has to be built on the machine (`npm run build:native -w
 * @lth/compute`, needs Debian's libopenblas-dev) and because OpenBLAS rounds differently from
 * the wasm gemm: the same seed gives other float bits, so a run records `wasm+openblas` as its
 * backend (`backendLabel()`). OpenBLAS runs on one thread whatever `LTH_THREADS` says: its
 * results change with its thread count (20 LeNet steps with 1 and with 2 threads end in
 * different weights), and a stage's thread budget changes with what else the executor runs, so
 * threads would make a run's bits depend on scheduling. Our own kernels split work so that
 * they do not (README, "Threads").
 */
export interface NativeSgemm {
  sgemm(buffer: ArrayBuffer, a: number, b: number, c: number, m: number, n: number, k: number, transposeA: boolean, transposeB: boolean): void;
  setThreads(n: number): void;
  /**
   * A whole dense-chain training step (native/mlp.cc; wasm/mlp/native-chain.ts) on up to
   * `threads` threads of the addon's own pool (native/pool.cc). Absent from addons built before it.
   */
  mlpStep?(heap: ArrayBuffer, desc: Uint32Array, scalars: Float64Array, threads: number): number;
  /**
   * A whole conv-net training step, Conv-2/4/6's shape (native/convnet.cc;
   * wasm/convnet/native-convnet.ts), on the same pool. Absent from addons built before it.
   */
  convStep?(heap: ArrayBuffer, desc: Uint32Array, scalars: Float64Array, threads: number): number;
  /** The conv net's eval-mode forward pass (native/convnet_forward.cc). */
  convForward?(heap: ArrayBuffer, desc: Uint32Array, threads: number): void;
  /** The chain's eval-mode forward pass (the same files). */
  mlpForward?(heap: ArrayBuffer, desc: Uint32Array, threads: number): void;
  /** Images gathered and normalized through a per-channel table (@lth/data's batches). */
  normalizeRows?(images: Uint8Array, rows: Int32Array, size: number, channels: number, lut: Float32Array, out: Float32Array): void;
}

/** The addon's whole-step and forward functions, which addons built before them lack. */
type NativeStepFunction = 'mlpStep' | 'mlpForward' | 'convStep' | 'convForward';

/** The addon's function `name`, bound to it, where native products are on and the addon has it; else null. */
export function nativeFunction<K extends NativeStepFunction>(name: K): NonNullable<NativeSgemm[K]> | null {
  const addon = nativeSgemm();
  const f = addon?.[name];
  return addon && typeof f === 'function' ? (f.bind(addon) as NonNullable<NativeSgemm[K]>) : null;
}

/** Where `npm run build:native` puts the addon (from dist/wasm/gemm or src/wasm/gemm alike). */
export const NATIVE_ADDON = join(__dirname, '..', '..', '..', 'native', 'build', 'Release', 'lth_sgemm.node');

let wanted: boolean | undefined;
let addon: NativeSgemm | null | undefined;
let singleThreaded = false;

/** Turns native products on or off for this process (undefined: back to LTH_NATIVE_BLAS). */
export function useNativeBlas(on: boolean | undefined): void {
  wanted = on;
}

/** The addon, loaded once; an error naming the fix when it is wanted but not built. */
export function loadNativeBlas(): NativeSgemm {
  if (addon) return addon;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    addon = require(NATIVE_ADDON) as NativeSgemm;
    return addon;
  } catch (err) {
    throw new Error(
      `native products (LTH_NATIVE_BLAS=1): cannot load ${NATIVE_ADDON} (${(err as Error).message.split('\n')[0]}); ` +
        'build it with `npm run build:native -w @lth/compute` (needs libopenblas-dev), or unset LTH_NATIVE_BLAS',
      { cause: err },
    );
  }
}

/** Whether this process sends dense products to OpenBLAS. */
export function nativeBlasActive(): boolean {
  return wanted ?? process.env['LTH_NATIVE_BLAS'] === '1';
}

/** The addon, OpenBLAS set to one thread (see above), or null when native products are off. */
export function nativeSgemm(): NativeSgemm | null {
  if (!nativeBlasActive()) return null;
  const a = loadNativeBlas();
  if (!singleThreaded) {
    a.setThreads(1);
    singleThreaded = true;
  }
  return a;
}

/**
 * `out` = the images `rows` (each `size` bytes, channels last) through `lut[channel * 256 +
 * byte]`, in native code when native products are on (the JS loop took ~0.3 ms of a LeNet
 * batch of 60, a sixth of a native training step); false, and nothing written, otherwise.
 * The same values either way: it is the same table.
 */
export function nativeNormalizeRows(images: Uint8Array, rows: Int32Array, size: number, channels: number, lut: Float32Array, out: Float32Array): boolean {
  const fn = nativeBlasActive() ? loadNativeBlas().normalizeRows : undefined;
  if (!fn) return false;
  fn(images, rows, size, channels, lut, out);
  return true;
}
