import { IpcLayoutError } from './ipc-layout-error';

/**
 * A minimal flatbuffer reader for the Arrow footer and message tables, in which every read is
 * bounds-checked (the flatbuffers library reads 0 outside its buffer instead) and every vector
 * length is checked to fit before it is used. The position arithmetic is the flatbuffers
 * library's, so a value read here is the value apache-arrow will read.
 */

function bad(problem: string): never {
  throw new IpcLayoutError(problem);
}

/** A flatbuffer reader whose every read is bounds-checked (flatbuffers' own reads give 0 instead). */
export class Checked {
  private readonly view: DataView;
  constructor(
    readonly bytes: Uint8Array,
    readonly what: string,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  private at(pos: number, size: number): number {
    if (!Number.isInteger(pos) || pos < 0 || pos + size > this.bytes.byteLength)
      bad(`${this.what}: offset ${pos} is outside its ${this.bytes.byteLength} bytes`);
    return pos;
  }
  u8 = (pos: number) => this.view.getUint8(this.at(pos, 1));
  i16 = (pos: number) => this.view.getInt16(this.at(pos, 2), true);
  i32 = (pos: number) => this.view.getInt32(this.at(pos, 4), true);
  /** An int64 that must be a non-negative safe integer (lengths, offsets, counts). */
  count(pos: number, name: string): number {
    const v = this.view.getBigInt64(this.at(pos, 8), true);
    if (v < 0n || v > BigInt(Number.MAX_SAFE_INTEGER)) bad(`${this.what}: ${name} ${v} is out of range`);
    return Number(v);
  }
  root(): Table {
    return this.table(this.i32(0));
  }
  table(pos: number): Table {
    const vtable = pos - this.i32(pos);
    const size = this.i16(vtable);
    if (size < 4 || size % 2 !== 0) bad(`${this.what}: invalid flatbuffer vtable`);
    this.at(vtable, size);
    return new Table(this, pos, vtable, size);
  }
}

/** A flatbuffer table: `slot(i)` is the absolute position of field i, or 0 when absent. */
export class Table {
  constructor(
    readonly r: Checked,
    readonly pos: number,
    private readonly vtable: number,
    private readonly vsize: number,
  ) {}
  slot(i: number): number {
    const vo = 4 + 2 * i;
    if (vo >= this.vsize) return 0;
    const off = this.r.i16(this.vtable + vo);
    if (off < 0) bad(`${this.r.what}: negative field offset`);
    return off === 0 ? 0 : this.pos + off;
  }
  i16(i: number, dflt: number): number {
    const p = this.slot(i);
    return p ? this.r.i16(p) : dflt;
  }
  u8(i: number, dflt: number): number {
    const p = this.slot(i);
    return p ? this.r.u8(p) : dflt;
  }
  i32(i: number, dflt: number): number {
    const p = this.slot(i);
    return p ? this.r.i32(p) : dflt;
  }
  child(i: number): Table | undefined {
    const p = this.slot(i);
    return p ? this.r.table(p + this.r.i32(p)) : undefined;
  }
  /** Start and length of a vector of `elem`-byte elements, checked to lie inside the buffer. */
  vector(i: number, elem: number, max = Infinity): { start: number; length: number } {
    const p = this.slot(i);
    if (!p) return { start: 0, length: 0 };
    const at = p + this.r.i32(p);
    const length = this.r.i32(at);
    if (length < 0 || length > max || at + 4 + length * elem > this.r.bytes.byteLength) bad(`${this.r.what}: vector of ${length} elements does not fit`);
    return { start: at + 4, length };
  }
  tables(i: number, max: number): Table[] {
    const v = this.vector(i, 4, max);
    return Array.from({ length: v.length }, (_, k) => {
      const p = v.start + 4 * k;
      return this.r.table(p + this.r.i32(p));
    });
  }
  string(i: number): string | undefined {
    const p = this.slot(i);
    if (!p) return undefined;
    const at = p + this.r.i32(p);
    const length = this.r.i32(at);
    if (length < 0 || at + 4 + length > this.r.bytes.byteLength) bad(`${this.r.what}: string does not fit`);
    return Buffer.from(this.r.bytes.buffer, this.r.bytes.byteOffset + at + 4, length).toString('utf8');
  }
}
