import { gzipSync } from 'node:zlib';
import { encodeIdx, parseIdx } from './idx';

const images = encodeIdx([3, 2, 2], Uint8Array.from([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]));

describe('parseIdx', () => {
  it('parses raw and gzip IDX files alike', () => {
    for (const bytes of [images, gzipSync(images)]) {
      const a = parseIdx(bytes, 'x.idx', [-1, 2, 2]);
      expect(a.dims).toEqual([3, 2, 2]);
      expect(Array.from(a.data)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    }
    const labels = parseIdx(gzipSync(encodeIdx([4], Uint8Array.from([1, 2, 3, 9]))), 'l.gz', [4]);
    expect(Array.from(labels.data)).toEqual([1, 2, 3, 9]);
  });

  it('reads the big-endian dimensions of the real MNIST header', () => {
    const header = Uint8Array.from([0, 0, 8, 1, 0, 0, 0xea, 0x60]);
    const file = new Uint8Array(8 + 60000);
    file.set(header);
    expect(parseIdx(file, 'train-labels').dims).toEqual([60000]);
  });

  it('rejects a wrong magic number, naming the file and the number', () => {
    const bad = Uint8Array.from(images);
    bad[0] = 0x1a;
    expect(() => parseIdx(bad, 'bad.idx')).toThrow(/bad\.idx: wrong IDX magic number 0x1a000803/);
    const float = Uint8Array.from(images);
    float[2] = 0x0d;
    expect(() => parseIdx(float, 'f.idx')).toThrow(/f\.idx: IDX data type 0x0d is not supported/);
  });

  it('rejects wrong sizes: truncated data, trailing bytes, a short header, unexpected dimensions', () => {
    expect(() => parseIdx(images.subarray(0, images.length - 1), 't.idx')).toThrow(/need 12 data bytes, the file has 11 \(truncated\)/);
    const longer = new Uint8Array(images.length + 2);
    longer.set(images);
    expect(() => parseIdx(longer, 'l.idx')).toThrow(/has 14 \(trailing bytes\)/);
    expect(() => parseIdx(images.subarray(0, 9), 'h.idx')).toThrow(/truncated IDX header/);
    expect(() => parseIdx(images, 'd.idx', [3, 28, 28])).toThrow(/d\.idx: IDX dimensions \[3, 2, 2\], expected \[3, 28, 28\]/);
    expect(() => parseIdx(images, 'n.idx', [-1])).toThrow(/expected \[N\]/);
  });

  it('rejects corrupt gzip data', () => {
    const gz = gzipSync(images);
    expect(() => parseIdx(gz.subarray(0, gz.length - 6), 'c.gz')).toThrow(/c\.gz: corrupt gzip data/);
  });
});
