import { decodeSafetensors, encodeSafetensors, type SafeTensor } from './safetensors';

const TENSORS: SafeTensor[] = [
  { name: 'conv.weight', dtype: 'F32', shape: [2, 1, 3, 3], data: Float32Array.from({ length: 18 }, (_, i) => i / 7 - 1) },
  { name: 'conv.weight_mask', dtype: 'U8', shape: [2, 1, 3, 3], data: Uint8Array.from({ length: 18 }, (_, i) => i % 2) },
  { name: 'bn.num_batches_tracked', dtype: 'I64', shape: [], data: BigInt64Array.of(123456789012n) },
  { name: 'empty', dtype: 'F32', shape: [0, 4], data: new Float32Array(0) },
];

describe('safetensors', () => {
  test('round trip: names, dtypes, shapes, values and string metadata come back', () => {
    const bytes = encodeSafetensors(TENSORS, { format: 'pt', 'lth.model': '{"arch":"x"}' });
    const back = decodeSafetensors(bytes);
    expect(back.metadata).toEqual({ format: 'pt', 'lth.model': '{"arch":"x"}' });
    expect(back.tensors.map((t) => [t.name, t.dtype, t.shape])).toEqual(TENSORS.map((t) => [t.name, t.dtype, t.shape]));
    back.tensors.forEach((t, i) => expect(Array.from(t.data as ArrayLike<unknown>)).toEqual(Array.from(TENSORS[i]!.data as ArrayLike<unknown>)));
  });

  test('layout per the spec: u64 LE header length, space-padded JSON to 8 bytes, LE data at the stated offsets', () => {
    const bytes = encodeSafetensors(TENSORS.slice(0, 3), { a: 'b' });
    const view = new DataView(bytes.buffer);
    const n = Number(view.getBigUint64(0, true));
    expect(n % 8).toBe(0);
    const text = new TextDecoder().decode(bytes.subarray(8, 8 + n));
    expect(text).toMatch(/^\{.*\} *$/);
    const header = JSON.parse(text);
    expect(header.__metadata__).toEqual({ a: 'b' });
    expect(header['conv.weight']).toEqual({ dtype: 'F32', shape: [2, 1, 3, 3], data_offsets: [0, 72] });
    expect(header['conv.weight_mask'].data_offsets).toEqual([72, 90]);
    expect(header['bn.num_batches_tracked']).toEqual({ dtype: 'I64', shape: [], data_offsets: [90, 98] });
    expect(view.getFloat32(8 + n + 4, true)).toBeCloseTo(1 / 7 - 1, 6);
    expect(view.getBigInt64(8 + n + 90, true)).toBe(123456789012n);
    expect(bytes.length).toBe(8 + n + 98);
  });

  test('bad input is refused with the tensor named', () => {
    expect(() => encodeSafetensors([{ name: 'w', dtype: 'F32', shape: [2, 2], data: new Float32Array(3) }])).toThrow("tensor 'w' has 3 values for shape [2,2]");
    expect(() => encodeSafetensors([TENSORS[0]!, TENSORS[0]!])).toThrow("duplicate or reserved tensor name 'conv.weight'");
    expect(() => encodeSafetensors([], { n: 1 as unknown as string })).toThrow("metadata 'n' must be a string");
    const good = encodeSafetensors(TENSORS.slice(0, 1));
    expect(() => decodeSafetensors(good.subarray(0, good.length - 1), 'f.safetensors')).toThrow(/f.safetensors: tensor 'conv.weight' runs past the end/);
  });
});
