/**
 * The safetensors format (https://github.com/huggingface/safetensors, "Format"): an 8-byte
 * little-endian header length N, N bytes of JSON header, then the raw little-endian tensor data.
 * The header maps each tensor name to {dtype, shape, data_offsets: [begin, end]} (offsets
 * relative to the start of the data, tensors contiguous, in offset order) and may hold
 * `__metadata__`: a string -> string map. The header is padded with spaces to a multiple of 8
 * so that the data is aligned.
 *
 * Hand-written: the npm registry has no maintained writer (the `safetensors` package is a
 * 0.0.1 placeholder, and @huggingface/hub only parses remote headers). `decodeSafetensors` is
 * the reader the round-trip tests use, and it checks what the writer promises.
 */

export type SafetensorsDtype = 'F32' | 'U8' | 'I64';

export interface SafeTensor {
  name: string;
  dtype: SafetensorsDtype;
  shape: number[];
  /** Float32Array for F32, Uint8Array for U8, BigInt64Array for I64. */
  data: Float32Array | Uint8Array | BigInt64Array;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

const BYTES: Record<SafetensorsDtype, number> = { F32: 4, U8: 1, I64: 8 };

function elements(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** The whole file as bytes. Names must be unique and not `__metadata__`. */
export function encodeSafetensors(tensors: SafeTensor[], metadata: Record<string, string> = {}): Uint8Array {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length) header.__metadata__ = metadata;
  for (const [k, v] of Object.entries(metadata)) {
    if (typeof v !== 'string') throw new Error(`safetensors: metadata '${k}' must be a string (the format allows string values only)`);
  }
  let offset = 0;
  for (const t of tensors) {
    if (t.name === '__metadata__' || t.name in header) throw new Error(`safetensors: duplicate or reserved tensor name '${t.name}'`);
    const n = elements(t.shape);
    if (t.data.length !== n) throw new Error(`safetensors: tensor '${t.name}' has ${t.data.length} values for shape [${t.shape}]`);
    const bytes = n * BYTES[t.dtype];
    header[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.length / 8) * 8;
  const out = new Uint8Array(8 + padded + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(padded), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + padded);
  let at = 8 + padded;
  for (const t of tensors) {
    // Typed arrays are in the platform's byte order; write little-endian explicitly.
    const n = t.data.length;
    if (t.dtype === 'U8' || LITTLE_ENDIAN) out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), at);
    else if (t.dtype === 'F32') for (let i = 0; i < n; i++) view.setFloat32(at + 4 * i, (t.data as Float32Array)[i]!, true);
    else for (let i = 0; i < n; i++) view.setBigInt64(at + 8 * i, (t.data as BigInt64Array)[i]!, true);
    at += n * BYTES[t.dtype];
  }
  return out;
}

export interface DecodedSafetensors {
  metadata: Record<string, string>;
  tensors: SafeTensor[];
}

/** Reads a file written by encodeSafetensors (or any safetensors file of these dtypes). */
export function decodeSafetensors(bytes: Uint8Array, where = 'safetensors'): DecodedSafetensors {
  if (bytes.length < 8) throw new Error(`${where}: ${bytes.length} bytes, too short for a safetensors header`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = Number(view.getBigUint64(0, true));
  if (8 + n > bytes.length) throw new Error(`${where}: header length ${n} runs past the end of the file (${bytes.length} bytes)`);
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n))) as Record<string, unknown>;
  const metadata = (header.__metadata__ ?? {}) as Record<string, string>;
  const dataStart = 8 + n;
  const tensors: SafeTensor[] = [];
  let expected = 0;
  const entries = Object.entries(header).filter(([k]) => k !== '__metadata__') as [
    string,
    { dtype: SafetensorsDtype; shape: number[]; data_offsets: [number, number] },
  ][];
  entries.sort((a, b) => a[1].data_offsets[0] - b[1].data_offsets[0]);
  for (const [name, info] of entries) {
    const size = BYTES[info.dtype];
    if (!size) throw new Error(`${where}: tensor '${name}' has dtype '${info.dtype}' (this reader knows F32, U8, I64)`);
    const [begin, end] = info.data_offsets;
    if (begin !== expected || end - begin !== elements(info.shape) * size)
      throw new Error(`${where}: tensor '${name}' offsets [${begin}, ${end}] do not follow the previous tensor or its shape`);
    if (dataStart + end > bytes.length) throw new Error(`${where}: tensor '${name}' runs past the end of the file`);
    expected = end;
    const count = elements(info.shape);
    const at = dataStart + begin;
    let data: SafeTensor['data'];
    if (info.dtype === 'U8') data = bytes.slice(at, at + count);
    else if (info.dtype === 'F32') data = Float32Array.from({ length: count }, (_, i) => view.getFloat32(at + 4 * i, true));
    else data = BigInt64Array.from({ length: count }, (_, i) => view.getBigInt64(at + 8 * i, true));
    tensors.push({ name, dtype: info.dtype, shape: info.shape, data });
  }
  if (dataStart + expected !== bytes.length) throw new Error(`${where}: ${bytes.length - dataStart - expected} bytes after the last tensor`);
  return { metadata, tensors };
}
