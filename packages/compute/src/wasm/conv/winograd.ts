import type { backend_util, TensorInfo } from '@tensorflow/tfjs-core';
import { perMemory, type WasmMemory, type WasmModule } from '../asm';
import { GEMM_CHUNK, gemmFor } from '../gemm/gemm';
import { nativeSgemm } from '../gemm/native';
import { gemmChunkedParallel } from '../gemm/parallel';
import type { BoundCall, HeapBackend } from '../kernel';
import { assembleSandwich, sandwichModule, type Sandwich, type SandwichLayout } from './sandwich';
import { winogradForward, type ForwardTransforms } from './winograd-forward';

/**
 * 3x3 stride-1 convolutions by Winograd's minimal filtering F(4x4, 3x3) (Lavin & Gray 2016):
 * each 4x4 output tile costs 36 multiplications per channel pair instead of 144, computed as 36
 * independent [tiles, ci] x [ci, co] matrix products (gemm/gemm.ts, ~40 GFLOP/s here) between
 * transforms of the input tiles and of the filter. The same decomposition gives the filter
 * gradient as 36 [ci, tiles] x [tiles, co] products. Measured on Conv-2's layer (3x3 64->64,
 * batch 60, 32x32): see tools/bench/conv.mjs; accuracy against the direct convolution in
 * winograd.test.ts.
 */

/** B^T: input tile (6x6) to the transform domain. */
const BT = [
  [4, 0, -5, 0, 1, 0],
  [0, -4, -4, 1, 1, 0],
  [0, 4, -4, -1, 1, 0],
  [0, -2, -1, 2, 1, 0],
  [0, 2, -1, -2, 1, 0],
  [0, 4, 0, -5, 0, 1],
];
/** G: 3x3 filter to the transform domain. */
const G = [
  [1 / 4, 0, 0],
  [-1 / 6, -1 / 6, -1 / 6],
  [-1 / 6, 1 / 6, -1 / 6],
  [1 / 24, 1 / 12, 1 / 6],
  [1 / 24, -1 / 12, 1 / 6],
  [0, 0, 1],
];
/** A^T: transform domain (6x6) to the 4x4 output tile. */
const AT = [
  [1, 1, 1, 1, 1, 0],
  [0, 1, -1, 2, -2, 0],
  [0, 1, 1, 4, 4, 0],
  [0, 1, -1, 8, -8, 1],
];
/** F(2x2, 3x3): 16 products per tile of 4 outputs, transforms with coefficients 0, ±1, ±1/2 only. */
const F2 = {
  tile: 2,
  BT: [
    [1, 0, -1, 0],
    [0, 1, 1, 0],
    [0, -1, 1, 0],
    [0, 1, 0, -1],
  ],
  G: [
    [1, 0, 0],
    [1 / 2, 1 / 2, 1 / 2],
    [1 / 2, -1 / 2, 1 / 2],
    [0, 0, 1],
  ],
  AT: [
    [1, 1, 1, 0],
    [0, 1, -1, -1],
  ],
};
const F4 = { tile: 4, BT, G, AT };
type Variant = typeof F4;
/** The variant in use. */
let variant: Variant = F4;
const transpose = (m: number[][]) => m[0]!.map((_, j) => m.map((row) => row[j]!));

/** Transform modules kept per memory (each a few KB of compiled code). */
const MAX_MODULES = 64;
const sandwiches = perMemory(() => new Map<string, Sandwich>());

function sandwich(memory: WasmMemory, key: string, layout: SandwichLayout): Sandwich {
  const cache = sandwiches(memory);
  let fn = cache.get(key);
  if (!fn) {
    const made = assembleSandwich(layout, memory);
    if (!made) throw new Error('wasm-kernels Winograd: the engine rejected the transform module (no wasm SIMD?)');
    fn = made;
    // Layouts include the tile count (the batch size), so evaluation with many batch sizes
    // would keep adding modules: start over past a bound.
    if (cache.size >= MAX_MODULES) cache.clear();
    cache.set(key, fn);
  }
  return fn;
}

/** The same transforms compiled for the worker threads' shared arena (winograd-forward.ts). */
const sharedModules = new Map<string, WasmModule>();

function sharedSandwich(key: string, layout: SandwichLayout): WasmModule {
  let module = sharedModules.get(key);
  if (!module) {
    const made = sandwichModule(layout, true);
    if (!made) throw new Error('wasm-kernels Winograd: the engine rejected the transform module (no wasm SIMD?)');
    module = made;
    if (sharedModules.size >= MAX_MODULES) sharedModules.clear();
    sharedModules.set(key, module);
  }
  return module;
}

/**
 * Whether the Winograd path handles this convolution. `LTH_WINOGRAD=0` in the environment turns
 * it off (XNNPACK's direct convolution: ~2.5x slower, ~10x less rounding), read on every call.
 */
export function winogradApply(info: backend_util.Conv2DInfo, backend: HeapBackend): boolean {
  const memory = backend.wasm.asm?.memory;
  if (process.env['LTH_WINOGRAD'] === '0') return false;
  // prettier-ignore
  return (
    info.filterHeight === 3 && info.filterWidth === 3 &&
    info.strideHeight === 1 && info.strideWidth === 1 &&
    info.dilationHeight === 1 && info.dilationWidth === 1 &&
    info.inChannels % 4 === 0 && info.outChannels % 8 === 0 &&
    info.outHeight >= variant.tile && info.outWidth >= variant.tile &&
    memory !== undefined && gemmFor(memory) !== null
  );
}

// prettier-ignore
interface Geometry {
  f: Variant; tile: number; win: number; p: number; // tile side, window side, transform points
  n: number; ci: number; co: number;
  oh: number; ow: number;
  th: number; tw: number; // tiles per column / row
  hp: number; wp: number; // padded input
}

function geometry(info: backend_util.Conv2DInfo): Geometry {
  const f = variant;
  const th = Math.ceil(info.outHeight / f.tile);
  const tw = Math.ceil(info.outWidth / f.tile);
  const win = f.tile + 2;
  return {
    f,
    tile: f.tile,
    win,
    p: win * win,
    n: info.batchSize,
    ci: info.inChannels,
    co: info.outChannels,
    oh: info.outHeight,
    ow: info.outWidth,
    th,
    tw,
    hp: th * f.tile + 2,
    wp: tw * f.tile + 2,
  };
}

/** x padded (zeros) so that every 6x6 input window of every tile is in bounds. */
function padInput(call: BoundCall, keep: (t: TensorInfo) => TensorInfo, x: TensorInfo, info: backend_util.Conv2DInfo, g: Geometry): TensorInfo {
  const { top, left } = info.padInfo;
  const bottom = g.hp - info.inHeight - top;
  const right = g.wp - info.inWidth - left;
  if (top === 0 && left === 0 && bottom === 0 && right === 0) return x;
  return keep(
    call(
      'PadV2',
      { x },
      {
        paddings: [
          [0, 0],
          [top, bottom],
          [left, right],
          [0, 0],
        ],
        constantValue: 0,
      },
    ),
  );
}

const offsetOf = (backend: HeapBackend, t: TensorInfo) => backend.dataIdMap.get(t.dataId).memoryOffset;

/**
 * Calls `fn` once per row of tiles with two byte offsets: of the row's first tile in an image
 * [n, rows, cols, c] and of its first entry in a tile list [tiles, c] (tiles row-major over
 * batch, tile row, tile column). The transforms then walk the row's tw tiles themselves.
 */
function perTileRow(g: Geometry, rows: number, cols: number, c: number, fn: (imageAt: number, listAt: number) => void): void {
  for (let b = 0; b < g.n; b++) {
    for (let ty = 0; ty < g.th; ty++) fn((b * rows + ty * g.tile) * cols * c * 4, (b * g.th + ty) * g.tw * c * 4);
  }
}

/** Where the input transform reads a 6x6 window of padded x and writes its points in a tile list of `rows` rows. */
function inputLayout(g: Geometry, rows: number): SandwichLayout {
  return { matrix: g.f.BT, srcOffset: (a, b) => (a * g.wp + b) * g.ci * 4, dstOffset: (i, j) => (i * g.win + j) * rows * g.ci * 4 };
}

/** Where the output transform reads a tile's points from M (`rows` rows) and writes its 4x4 outputs. */
function outputLayout(g: Geometry, rows: number): SandwichLayout {
  const wq = g.tw * g.tile;
  return { matrix: g.f.AT, srcOffset: (a, b) => (a * g.win + b) * rows * g.co * 4, dstOffset: (i, j) => (i * wq + j) * g.co * 4 };
}

/** V[p][t][c] for every tile t (row-major over batch, tile row, tile column) of padded x. */
function transformInput(backend: HeapBackend, xp: TensorInfo, g: Geometry, rows: number): TensorInfo {
  const memory = backend.wasm.asm!.memory!;
  const { ci, wp, hp, tw, tile, p: points } = g;
  const fn = sandwich(memory, `in${tile}:${ci}:${wp}:${rows}`, inputLayout(g, rows));
  const v = backend.makeOutput([points, rows, ci], 'float32');
  const src = offsetOf(backend, xp);
  const dst = offsetOf(backend, v);
  perTileRow(g, hp, wp, ci, (imageAt, listAt) => fn(src + imageAt, dst + listAt, tw, tile * ci * 4, ci * 4, ci / 4));
  return v;
}

/** The forward's transforms for winograd-forward.ts, bound to the heap or compiled for the arena. */
function forwardTransforms(memory: WasmMemory, g: Geometry): ForwardTransforms {
  const keys = (rows: number) => [`in${g.tile}:${g.ci}:${g.wp}:${rows}`, `out${g.tile}:${g.co}:${g.tw * g.tile}:${rows}`] as const;
  return {
    bound: (rows) => ({ input: sandwich(memory, keys(rows)[0], inputLayout(g, rows)), output: sandwich(memory, keys(rows)[1], outputLayout(g, rows)) }),
    modules: (rows) => ({ input: sharedSandwich(keys(rows)[0], inputLayout(g, rows)), output: sharedSandwich(keys(rows)[1], outputLayout(g, rows)) }),
  };
}

/**
 * Conv2D output [n, oh, ow, co] of a 3x3 stride-1 convolution (`winogradApply` true): U = G w G^T,
 * V = B^T x B per tile, M[p] = V[p] U[p], y = A^T M A per tile.
 */
export function conv2DWinograd(
  call: BoundCall,
  keep: (t: TensorInfo) => TensorInfo,
  backend: HeapBackend,
  x: TensorInfo,
  filter: TensorInfo,
  info: backend_util.Conv2DInfo,
): TensorInfo {
  const memory = backend.wasm.asm!.memory!;
  const g = geometry(info);
  const { n, ci, co, th, tw, tile, win, p: points } = g;
  const xp = padInput(call, keep, x, info, g);
  const u = keep(backend.makeOutput([points, ci, co], 'float32'));
  const toU = sandwich(memory, `filter${tile}:${ci}:${co}`, {
    matrix: g.f.G,
    srcOffset: (a, b) => (a * 3 + b) * ci * co * 4,
    dstOffset: (i, j) => (i * win + j) * ci * co * 4,
  });
  toU(offsetOf(backend, filter), offsetOf(backend, u), 1, 0, 0, (ci * co) / 4);
  const hq = th * tile;
  const wq = tw * tile;
  const exact = hq === g.oh && wq === g.ow;
  const y = keep(backend.makeOutput([n, hq, wq, co], 'float32')); // freed on error; not when returned
  const scratch = (floats: number) => offsetOf(backend, keep(backend.makeOutput([floats], 'float32')));
  winogradForward(memory, { ...g, points, hq, wq }, forwardTransforms(memory, g), offsetOf(backend, xp), offsetOf(backend, u), offsetOf(backend, y), scratch);
  if (exact) return y;
  return call('Slice', { x: y }, { begin: [0, 0, 0, 0], size: [n, g.oh, g.ow, co] });
}

/**
 * dW [3, 3, ci, co] of a 3x3 stride-1 convolution: dW = G^T (sum over tiles V[p] (.) Z[p]) G with
 * V = B^T x B and Z = A dy A^T per tile, the sum over tiles being 36 [ci, tiles] x [tiles, co]
 * products.
 */
export function filterGradWinograd(
  call: BoundCall,
  keep: (t: TensorInfo) => TensorInfo,
  backend: HeapBackend,
  x: TensorInfo,
  dy: TensorInfo,
  info: backend_util.Conv2DInfo,
): TensorInfo {
  const memory = backend.wasm.asm!.memory!;
  const g = geometry(info);
  const { n, ci, co, th, tw, tile, win, p: points } = g;
  const tiles = n * th * tw;
  const hq = th * tile;
  const wq = tw * tile;
  const xp = padInput(call, keep, x, info, g);
  // Output positions past the edge get a zero gradient, so padded tiles add nothing.
  const dyp =
    hq === g.oh && wq === g.ow
      ? dy
      : keep(
          call(
            'PadV2',
            { x: dy },
            {
              paddings: [
                [0, 0],
                [0, hq - g.oh],
                [0, wq - g.ow],
                [0, 0],
              ],
              constantValue: 0,
            },
          ),
        );
  const v = keep(transformInput(backend, xp, g, tiles));
  const z = keep(backend.makeOutput([points, tiles, co], 'float32'));
  const toZ = sandwich(memory, `dy${tile}:${co}:${wq}:${tiles}`, {
    matrix: transpose(g.f.AT),
    srcOffset: (a, b) => (a * wq + b) * co * 4,
    dstOffset: (i, j) => (i * win + j) * tiles * co * 4,
  });
  const [dyOff, zOff] = [offsetOf(backend, dyp), offsetOf(backend, z)];
  perTileRow(g, hq, wq, co, (imageAt, listAt) => toZ(dyOff + imageAt, zOff + listAt, tw, tile * co * 4, co * 4, co / 4));
  const mw = keep(backend.makeOutput([points, ci, co], 'float32'));
  const [vOff, mwOff] = [offsetOf(backend, v), offsetOf(backend, mw)];
  const native = nativeSgemm();
  const heap = (memory as { buffer: ArrayBuffer }).buffer;
  for (let p = 0; p < points; p++) {
    // MW[p] = V[p]^T Z[p]: V[p] is stored [tiles, ci].
    if (native) native.sgemm(heap, vOff + p * tiles * ci * 4, zOff + p * tiles * co * 4, mwOff + p * ci * co * 4, ci, co, tiles, true, false);
    else
      gemmChunkedParallel(memory, vOff + p * tiles * ci * 4, zOff + p * tiles * co * 4, mwOff + p * ci * co * 4, ci, tiles, co, 4, ci * 4, co * 4, GEMM_CHUNK);
  }
  const dw = backend.makeOutput([3, 3, ci, co], 'float32');
  const toDw = sandwich(memory, `dw${tile}:${ci}:${co}`, {
    matrix: transpose(g.f.G),
    srcOffset: (a, b) => (a * win + b) * ci * co * 4,
    dstOffset: (i, j) => (i * 3 + j) * ci * co * 4,
  });
  toDw(mwOff, offsetOf(backend, dw), 1, 0, 0, (ci * co) / 4);
  return dw;
}

/** Selects F(2x2, 3x3) or F(4x4, 3x3) (tests and benchmarks compare them); returns the previous tile size. */
export function setWinogradTile(tile: 2 | 4): 2 | 4 {
  const previous = variant.tile as 2 | 4;
  variant = tile === 2 ? F2 : F4;
  return previous;
}
