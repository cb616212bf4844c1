import { Field, Int32, List, Utf8, makeData, vectorFromArray, type DataType, type Data, type RecordBatch } from 'apache-arrow';

type AnyData = Data<DataType>;

/** A non-null Utf8 column. */
export function utf8Data(values: readonly string[]): AnyData {
  return vectorFromArray(values as string[], new Utf8()).data[0] as AnyData;
}

/** A non-null primitive column backed by the given typed array (no copy). */
export function primitiveData<T extends DataType>(type: T, values: ArrayBufferView & { length: number }): AnyData {
  return makeData({ type, length: values.length, nullCount: 0, data: values } as never) as unknown as AnyData;
}

/**
 * A List<T> column from a flat child array and row offsets (length rows + 1). The child array
 * is used as it is, so a list of one large tensor costs no copy.
 */
export function listData<T extends DataType>(itemType: T, flat: ArrayBufferView & { length: number }, offsets: Int32Array): AnyData {
  const type = new List(new Field('item', itemType, false));
  const child = makeData({ type: itemType, length: flat.length, nullCount: 0, data: flat } as never) as unknown as AnyData;
  return makeData({ type, length: offsets.length - 1, nullCount: 0, valueOffsets: offsets, child } as never) as unknown as AnyData;
}

export function int32List(rows: readonly (readonly number[])[]): AnyData {
  const offsets = new Int32Array(rows.length + 1);
  let n = 0;
  rows.forEach((r, i) => {
    n += r.length;
    offsets[i + 1] = n;
  });
  const flat = new Int32Array(n);
  rows.forEach((r, i) => flat.set(r, offsets[i]));
  return listData(new Int32(), flat, offsets);
}

/** The column's data chunk in a batch (IPC batches hold one chunk per column). */
export function columnData(batch: RecordBatch, name: string): AnyData {
  const vector = batch.getChild(name);
  if (!vector || vector.data.length !== 1) throw new Error(`column '${name}' is missing or chunked`);
  return vector.data[0] as AnyData;
}

/** Row i of a List column as a view of its child values (no copy). */
export function listRow<T extends ArrayBufferView>(list: AnyData, i: number): T {
  const offsets = list.valueOffsets as Int32Array;
  const child = list.children[0] as AnyData;
  const start = offsets[list.offset + i] as number;
  const end = offsets[list.offset + i + 1] as number;
  const values = child.values as unknown as { subarray(a: number, b: number): T };
  return values.subarray(child.offset + start, child.offset + end);
}

export function utf8Column(batch: RecordBatch, name: string): string[] {
  return (batch.getChild(name)?.toArray() ?? []) as string[];
}
