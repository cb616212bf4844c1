import { holdout, assembleDataset, classCounts } from './splits';
import { channelStats } from './normalize';

describe('holdout', () => {
  it('splits into disjoint sets that cover every row, sorted', () => {
    const { train, validation } = holdout(1000, 100, 7);
    expect(validation).toHaveLength(100);
    expect(train).toHaveLength(900);
    const all = new Set([...train, ...validation]);
    expect(all.size).toBe(1000);
    expect([...validation]).toEqual([...validation].sort((a, b) => a - b));
  });

  it('is chosen by the seed', () => {
    expect(Array.from(holdout(1000, 100, 7).validation)).toEqual(Array.from(holdout(1000, 100, 7).validation));
    expect(Array.from(holdout(1000, 100, 7).validation)).not.toEqual(Array.from(holdout(1000, 100, 8).validation));
  });
});

describe('assembleDataset', () => {
  // 10 training images of 2 pixels, 2 channels... (shape [1, 1, 2]): pixel values encode the row.
  const raw = {
    train: { images: Uint8Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? i * 10 : 255 - i)), labels: Uint8Array.from({ length: 10 }, (_, i) => i % 3) },
    test: { images: Uint8Array.from([1, 2, 3, 4]), labels: Uint8Array.from([0, 1]) },
  };
  const info = { name: 'toy', shape: [1, 1, 2] as [number, number, number], classes: ['a', 'b', 'c'], source: { origin: 'test', files: {} } };

  it('orders rows train, validation, test and keeps each row intact', () => {
    const ds = assembleDataset(raw, info, { validation: 3, seed: 1 });
    const { train, validation } = holdout(10, 3, 1);
    expect(ds.meta.splits).toEqual({ train: { offset: 0, count: 7 }, validation: { offset: 7, count: 3 }, test: { offset: 10, count: 2 } });
    [...train, ...validation].forEach((src, row) => {
      expect(ds.labels[row]).toBe(raw.train.labels[src]);
      expect(Array.from(ds.images.subarray(row * 2, row * 2 + 2))).toEqual(Array.from(raw.train.images.subarray(src * 2, src * 2 + 2)));
    });
    expect(Array.from(ds.images.subarray(20))).toEqual([1, 2, 3, 4]);
    expect(ds.meta.normalization).toEqual(channelStats(ds.images.subarray(0, 14), 2));
    expect(ds.meta.seed).toBe(1);
  });

  it('names a bad validation or subset', () => {
    expect(() => assembleDataset(raw, info, { validation: 10, seed: 0 })).toThrow(/validation must be an integer in 0\.\.9/);
    expect(() => assembleDataset(raw, info, { validation: 2, seed: 0, subset: 9 })).toThrow(/subset must be an integer in 1\.\.8/);
  });

  it('counts classes per split', () => {
    expect(classCounts(Uint8Array.from([0, 2, 2, 1, 2]), 4)).toEqual([1, 1, 3, 0]);
  });
});
