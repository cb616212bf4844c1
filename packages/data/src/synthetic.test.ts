import { splitView } from '@lth/artifacts';
import { channelStats } from './normalize';
import { syntheticDataset } from './synthetic';

describe('syntheticDataset', () => {
  it('is a function of its seed', () => {
    const a = syntheticDataset({ seed: 3 });
    const b = syntheticDataset({ seed: 3 });
    const c = syntheticDataset({ seed: 4 });
    expect(Buffer.from(a.images).equals(Buffer.from(b.images))).toBe(true);
    expect(Buffer.from(a.labels).equals(Buffer.from(b.labels))).toBe(true);
    expect(Buffer.from(a.images).equals(Buffer.from(c.images))).toBe(false);
  });

  it('has the requested shape, classes and split sizes, with balanced classes', () => {
    const d = syntheticDataset({ seed: 1, shape: [4, 5, 3], classes: 3, train: 30, validation: 6, test: 9 });
    expect(d.meta.shape).toEqual([4, 5, 3]);
    expect(d.meta.classes).toHaveLength(3);
    expect(d.labels).toHaveLength(45);
    expect(d.images).toHaveLength(45 * 60);
    expect(d.meta.splits).toEqual({ train: { offset: 0, count: 30 }, validation: { offset: 30, count: 6 }, test: { offset: 36, count: 9 } });
    const counts = [0, 0, 0];
    for (const l of splitView(d, 'train').labels) counts[l]! += 1;
    expect(counts).toEqual([10, 10, 10]);
    expect(d.meta.normalization.mean).toHaveLength(3);
  });

  it('is learnable: nearest class mean classifies held-out examples well above chance', () => {
    const d = syntheticDataset({ seed: 7 });
    const size = 64;
    const train = splitView(d, 'train');
    const means = Array.from({ length: 10 }, () => new Float64Array(size));
    const n = new Array<number>(10).fill(0);
    for (let i = 0; i < train.count; i++) {
      const l = train.labels[i]!;
      n[l]! += 1;
      for (let p = 0; p < size; p++) means[l]![p]! += train.images[i * size + p]!;
    }
    means.forEach((m, l) => m.forEach((v, p) => (m[p] = v / n[l]!)));
    const test = splitView(d, 'test');
    let correct = 0;
    for (let i = 0; i < test.count; i++) {
      let best = -1;
      let bestD = Infinity;
      for (let l = 0; l < 10; l++) {
        let dist = 0;
        for (let p = 0; p < size; p++) dist += (test.images[i * size + p]! - means[l]![p]!) ** 2;
        if (dist < bestD) [best, bestD] = [l, dist];
      }
      if (best === test.labels[i]) correct++;
    }
    expect(correct / test.count).toBeGreaterThan(0.9);
  });

  it('stores normalization statistics of the train split only', () => {
    const d = syntheticDataset({ seed: 2, shape: [2, 2, 2] });
    const train = splitView(d, 'train');
    expect(d.meta.normalization).toEqual(channelStats(train.images, 2));
    const all = channelStats(d.images, 2);
    expect(all.mean[0]).not.toBe(d.meta.normalization.mean[0]);
  });

  it('rejects bad options, naming the field', () => {
    expect(() => syntheticDataset({ seed: 0, train: -1 })).toThrow(/train/);
    expect(() => syntheticDataset({ seed: 0, classes: 1 })).toThrow(/classes/);
  });
});

describe('channelStats', () => {
  it('computes per-channel mean and std on [0, 1] values', () => {
    // channel 0: 0 and 255 -> mean 0.5, std 0.5; channel 1: constant 51 -> mean 0.2, std replaced by 1
    const s = channelStats(Uint8Array.from([0, 51, 255, 51]), 2);
    expect(s.mean[0]).toBeCloseTo(0.5, 10);
    expect(s.std[0]).toBeCloseTo(0.5, 10);
    expect(s.mean[1]).toBeCloseTo(0.2, 10);
    expect(s.std[1]).toBe(1);
  });
});
