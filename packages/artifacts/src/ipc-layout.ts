/**
 * Structural validation of an Arrow IPC file before apache-arrow reads it.
 *
 * apache-arrow 21's reader trusts the file: it takes the footer length, the block offsets, the
 * message lengths, the flatbuffer vector lengths, the field-node lengths and the buffer regions
 * as written. Two to four changed bytes can make it loop forever (a record batch block whose
 * message says Schema or DictionaryBatch restarts its batch loop) or allocate without bound (a
 * vector length of 2^31, a batch of 2^40 rows). This module re-reads every value the reader will use, with a checked
 * flatbuffer reader that refuses any position outside its buffer, and checks it against the
 * file size and the schema before anything is allocated. Every loop here is bounded by the
 * number of bytes it covers, so validation is linear in the file size, and a file it accepts
 * is read by apache-arrow in time and memory linear in the file size.
 *
 * Only the layout lth writes is accepted: the file format with the continuation marker,
 * little-endian, metadata V4/V5, no dictionaries, no compression, no variadic buffers, and the
 * column types Int (8/16/32/64), Float (32/64), Utf8, List and FixedSizeList.
 */

import { Checked, type Table } from './flatbuffer-checked';
import { IpcLayoutError } from './ipc-layout-error';

export { IpcLayoutError };

const MAGIC_AND_PADDING = 10; // 'ARROW1' + int32 footer length, at the end of the file
const HEADER = 8; // 'ARROW1' + 2 bytes of padding, at the start
const MAX_FIELDS = 1024; // in the whole (flattened) schema
const MAX_DEPTH = 4; // lth nests at most List<item>
const MAX_METADATA_ENTRIES = 256;

function bad(problem: string): never {
  throw new IpcLayoutError(problem);
}

/** The column types lth writes, as the schema describes them. */
type Column =
  | { kind: 'int'; width: number; nullable: boolean }
  | { kind: 'float'; width: number; nullable: boolean }
  | { kind: 'utf8'; nullable: boolean }
  | { kind: 'list'; nullable: boolean; child: Column }
  | { kind: 'fixed'; nullable: boolean; size: number; child: Column };

const TYPE = { Int: 2, FloatingPoint: 3, Utf8: 5, List: 12, FixedSizeList: 16 } as const;

/** Key-value metadata: bounded in count, every string inside its buffer. */
function checkMetadata(t: Table, slot: number): void {
  for (const kv of t.tables(slot, MAX_METADATA_ENTRIES)) {
    kv.string(0);
    kv.string(1);
  }
}

function readField(f: Table, depth: number, budget: { fields: number }): Column {
  if (--budget.fields < 0) bad(`schema has more than ${MAX_FIELDS} fields`);
  if (depth > MAX_DEPTH) bad(`schema nests deeper than ${MAX_DEPTH} levels`);
  const name = f.string(0) ?? '';
  const nullable = f.u8(1, 0) !== 0;
  const typeType = f.u8(2, 0);
  if (f.slot(4)) bad(`field '${name}' is dictionary-encoded (lth artifacts have no dictionaries)`);
  checkMetadata(f, 6);
  const children = f.tables(5, 2).map((c) => readField(c, depth + 1, budget));
  const type = f.child(3);
  const nested = typeType === TYPE.List || typeType === TYPE.FixedSizeList;
  if (children.length !== (nested ? 1 : 0)) bad(`field '${name}' has ${children.length} children`);
  switch (typeType) {
    case TYPE.Int: {
      const width = type ? type.i32(0, 0) : 0;
      if (![8, 16, 32, 64].includes(width)) bad(`field '${name}': Int of ${width} bits`);
      return { kind: 'int', width: width / 8, nullable };
    }
    case TYPE.FloatingPoint: {
      const precision = type ? type.i16(0, 0) : 0;
      if (precision !== 1 && precision !== 2) bad(`field '${name}': unsupported float precision ${precision}`);
      return { kind: 'float', width: precision === 1 ? 4 : 8, nullable };
    }
    case TYPE.Utf8:
      return { kind: 'utf8', nullable };
    case TYPE.List:
      return { kind: 'list', nullable, child: children[0]! };
    case TYPE.FixedSizeList: {
      const size = type ? type.i32(0, 0) : 0;
      if (size < 1) bad(`field '${name}': FixedSizeList of ${size} values`);
      return { kind: 'fixed', nullable, size, child: children[0]! };
    }
    default:
      return bad(`field '${name}' has Arrow type id ${typeType}, which lth artifacts do not use`);
  }
}

/** Checks one record batch's nodes and buffers against the schema, the way VectorLoader walks them. */
function checkBatch(file: Uint8Array, bodyStart: number, bodyLength: number, rb: Table, columns: Column[], where: string): number {
  const r = rb.r;
  const rows = rb.slot(0) ? r.count(rb.slot(0), 'batch length') : 0;
  if (rb.slot(3)) bad(`${where} is compressed (lth writes uncompressed artifacts)`);
  if (rb.vector(4, 8).length !== 0) bad(`${where} has variadic buffers`);
  const nodes = rb.vector(1, 16);
  const buffers = rb.vector(2, 16);
  let n = 0;
  let b = 0;
  const body = file.subarray(bodyStart, bodyStart + bodyLength);
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const node = () => {
    if (n >= nodes.length) bad(`${where} has fewer field nodes than the schema needs`);
    const at = nodes.start + 16 * n++;
    const length = r.count(at, 'field length');
    const nulls = r.count(at + 8, 'null count');
    if (length > 0x7fffffff || nulls > length) bad(`${where}: field node ${n - 1} has length ${length} and ${nulls} nulls`);
    return { length, nulls };
  };
  const buffer = () => {
    if (b >= buffers.length) bad(`${where} has fewer buffers than the schema needs`);
    const at = buffers.start + 16 * b++;
    const offset = r.count(at, 'buffer offset');
    const length = r.count(at + 8, 'buffer length');
    if (offset % 8 !== 0 || offset + length > bodyLength)
      bad(`${where}: buffer ${b - 1} (${offset}+${length}) is outside the ${bodyLength}-byte body or unaligned`);
    return { offset, length };
  };
  const validity = (c: Column, length: number, nulls: number) => {
    const v = buffer();
    if (nulls > 0 && !c.nullable) bad(`${where}: a non-nullable column has ${nulls} nulls`);
    if (nulls > 0 && v.length < Math.ceil(length / 8)) bad(`${where}: validity bitmap too short`);
  };
  /** Offsets must be non-decreasing from >= 0 and end within `limit` values. */
  const offsets = (length: number, limit: number) => {
    const o = buffer();
    if (length === 0) return;
    if (o.length < (length + 1) * 4) bad(`${where}: offsets buffer holds ${o.length} bytes for ${length} rows`);
    let prev = view.getInt32(o.offset, true);
    if (prev < 0) bad(`${where}: negative offset`);
    for (let i = 1; i <= length; i++) {
      const cur = view.getInt32(o.offset + 4 * i, true);
      if (cur < prev) bad(`${where}: offsets decrease at row ${i - 1}`);
      prev = cur;
    }
    if (prev > limit) bad(`${where}: offsets reach ${prev}, beyond the ${limit} values there are`);
  };
  const column = (c: Column): number => {
    const { length, nulls } = node();
    validity(c, length, nulls);
    if (c.kind === 'int' || c.kind === 'float') {
      if (buffer().length < length * c.width) bad(`${where}: data buffer too short for ${length} values`);
    } else if (c.kind === 'utf8') {
      const dataAt = buffers.start + 16 * (b + 1);
      offsets(length, b + 1 < buffers.length ? r.count(dataAt + 8, 'buffer length') : 0);
      buffer();
    } else if (c.kind === 'list') {
      // The child's length is only known after its node; check the offsets against it then.
      const childNode = nodes.start + 16 * (n + 0);
      offsets(length, n < nodes.length ? r.count(childNode, 'field length') : 0);
      column(c.child);
    } else if (c.kind === 'fixed') {
      const child = column(c.child);
      if (child < length * c.size) bad(`${where}: fixed-size list of ${length} x ${c.size} has ${child} values`);
    }
    return length;
  };
  for (const c of columns) {
    if (column(c) !== rows) bad(`${where}: a column's length differs from the batch's ${rows} rows`);
  }
  if (n !== nodes.length || b !== buffers.length) bad(`${where}: ${nodes.length} field nodes and ${buffers.length} buffers, the schema needs ${n} and ${b}`);
  return rows;
}

/**
 * Validates the whole layout of an Arrow IPC file (whose magic at both ends was checked).
 * Throws IpcLayoutError with what is wrong; returns the total number of rows.
 */
export function checkIpcLayout(file: Uint8Array): number {
  const size = file.byteLength;
  const whole = new Checked(file, 'file');
  const footerLength = whole.i32(size - MAGIC_AND_PADDING);
  const footerStart = size - MAGIC_AND_PADDING - footerLength;
  if (footerLength <= 0 || footerStart < HEADER) bad(`footer length ${footerLength} does not fit in ${size} bytes`);
  const footer = new Checked(file.subarray(footerStart, footerStart + footerLength), 'footer').root();
  const version = footer.i16(0, 0);
  if (version !== 3 && version !== 4) bad(`unsupported metadata version ${version}`);
  const schema = footer.child(1);
  if (!schema) bad('footer has no schema');
  if (schema.i16(0, 0) !== 0) bad('schema is big-endian');
  checkMetadata(schema, 2);
  const budget = { fields: MAX_FIELDS };
  const columns = schema.tables(1, MAX_FIELDS).map((f) => readField(f, 1, budget));
  if (footer.vector(2, 24).length !== 0) bad('file has dictionary batches (lth artifacts have none)');
  const blocks = footer.vector(3, 24);
  let end = HEADER;
  let rows = 0;
  for (let i = 0; i < blocks.length; i++) {
    const where = `record batch ${i}`;
    const at = blocks.start + 24 * i;
    const r = footer.r;
    const offset = r.count(at, 'block offset');
    const metaLength = r.i32(at + 8);
    const bodyLength = r.count(at + 16, 'block body length');
    // Blocks in order and disjoint: each byte of the file is read at most once.
    if (offset < end || offset % 8 !== 0 || metaLength < 16 || metaLength % 8 !== 0 || offset + metaLength + bodyLength > footerStart) {
      bad(`${where}: block (offset ${offset}, metadata ${metaLength}, body ${bodyLength}) is out of place in ${size} bytes`);
    }
    end = offset + metaLength + bodyLength;
    if (whole.i32(offset) !== -1) bad(`${where}: no continuation marker at offset ${offset}`);
    const length = whole.i32(offset + 4);
    // apache-arrow reads the body right after the metadata, whatever the block says: they must agree.
    if (length <= 0 || 8 + length !== metaLength) bad(`${where}: metadata length ${length} does not match its block (${metaLength} bytes)`);
    const message = new Checked(file.subarray(offset + 8, offset + 8 + length), `${where} metadata`).root();
    // A block at a schema or dictionary message would restart apache-arrow's batch loop forever.
    if (message.u8(1, 0) !== 3) bad(`${where}: block does not point at a record batch message`);
    // Before V4, apache-arrow shifts every buffer entry by 8 bytes; lth writes V5.
    const messageVersion = message.i16(0, 0);
    if (messageVersion !== 3 && messageVersion !== 4) bad(`${where}: unsupported message version ${messageVersion}`);
    const declared = message.slot(3) ? message.r.count(message.slot(3), 'body length') : 0;
    if (declared !== bodyLength) bad(`${where}: message body length ${declared}, block says ${bodyLength}`);
    checkMetadata(message, 4);
    const rb = message.child(2);
    if (!rb) bad(`${where}: message has no header`);
    rows += checkBatch(file, offset + metaLength, bodyLength, rb, columns, where);
  }
  if (rows > size) bad(`${rows} rows cannot come from ${size} bytes`);
  return rows;
}
