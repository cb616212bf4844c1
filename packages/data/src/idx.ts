import { gunzipSync } from 'node:zlib';

/** A parsed IDX file of unsigned bytes: dimensions and a view of the data (no copy). */
export interface IdxArray {
  dims: number[];
  data: Uint8Array;
}

export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/** Decompresses gzip data (detected by its magic bytes); other data is returned as is. */
export function maybeGunzip(bytes: Uint8Array, file: string): Uint8Array {
  if (!isGzip(bytes)) return bytes;
  try {
    const out = gunzipSync(bytes);
    return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  } catch (err) {
    throw new Error(`${file}: corrupt gzip data: ${(err as Error).message}`, { cause: err });
  }
}

/**
 * Parses the IDX format of MNIST and Fashion-MNIST (raw or gzip): two zero bytes, a type byte
 * (0x08 = unsigned byte, the only type these datasets use), the number of dimensions, then each
 * dimension as a big-endian uint32, then the data. `expectDims` checks the shape, with -1 for
 * "any" (e.g. the count, checked elsewhere).
 */
export function parseIdx(input: Uint8Array, file: string, expectDims?: number[]): IdxArray {
  const bytes = maybeGunzip(input, file);
  if (bytes.length < 4) throw new Error(`${file}: too short for an IDX file (${bytes.length} bytes)`);
  const magic = ((bytes[0]! << 24) | (bytes[1]! << 16) | (bytes[2]! << 8) | bytes[3]!) >>> 0;
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    throw new Error(`${file}: wrong IDX magic number 0x${magic.toString(16).padStart(8, '0')} (must start with two zero bytes)`);
  }
  if (bytes[2] !== 0x08) {
    throw new Error(
      `${file}: IDX data type 0x${bytes[2]!.toString(16).padStart(2, '0')} is not supported (magic 0x${magic.toString(16).padStart(8, '0')}; only 0x08 unsigned byte)`,
    );
  }
  const nd = bytes[3]!;
  if (nd < 1) throw new Error(`${file}: IDX magic 0x${magic.toString(16).padStart(8, '0')} declares 0 dimensions`);
  const header = 4 + 4 * nd;
  if (bytes.length < header) throw new Error(`${file}: truncated IDX header (${bytes.length} bytes, need ${header} for ${nd} dimensions)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims: number[] = [];
  for (let i = 0; i < nd; i++) dims.push(view.getUint32(4 + 4 * i, false));
  const expected = dims.reduce((a, b) => a * b, 1);
  const actual = bytes.length - header;
  if (actual !== expected) {
    throw new Error(
      `${file}: IDX dimensions [${dims.join(', ')}] need ${expected} data bytes, the file has ${actual}${actual < expected ? ' (truncated)' : ' (trailing bytes)'}`,
    );
  }
  if (expectDims) {
    const ok = expectDims.length === dims.length && expectDims.every((d, i) => d < 0 || d === dims[i]);
    if (!ok) throw new Error(`${file}: IDX dimensions [${dims.join(', ')}], expected [${expectDims.map((d) => (d < 0 ? 'N' : d)).join(', ')}]`);
  }
  return { dims, data: bytes.subarray(header) };
}

/** Serializes unsigned-byte data as IDX (for tests and for writing subsets). */
export function encodeIdx(dims: number[], data: Uint8Array): Uint8Array {
  const header = 4 + 4 * dims.length;
  const out = new Uint8Array(header + data.length);
  const view = new DataView(out.buffer);
  out[2] = 0x08;
  out[3] = dims.length;
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  out.set(data, header);
  return out;
}
