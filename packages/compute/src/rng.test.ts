import { createRng } from './rng';

describe('createRng', () => {
  it('gives the same stream for the same seed and another for another seed', () => {
    const a = createRng(42), b = createRng(42), c = createRng(43);
    const xa = Array.from({ length: 20 }, () => a.next());
    expect(Array.from({ length: 20 }, () => b.next())).toEqual(xa);
    expect(Array.from({ length: 20 }, () => c.next())).not.toEqual(xa);
    expect(xa.every((x) => x >= 0 && x < 1)).toBe(true);
  });

  it('forks are reproducible and independent of the parent and of each other', () => {
    const p = createRng(7);
    const f1 = p.fork('init'), f1b = createRng(7).fork('init'), f2 = p.fork('shuffle');
    const s1 = Array.from({ length: 10 }, () => f1.next());
    expect(Array.from({ length: 10 }, () => f1b.next())).toEqual(s1);
    expect(Array.from({ length: 10 }, () => f2.next())).not.toEqual(s1);
    // Drawing from a fork does not move the parent.
    const q = createRng(7);
    q.fork('x').next();
    expect(q.next()).toBe(createRng(7).next());
  });

  it('draws normals with mean ~0 and std ~1, and fillNormal scales them', () => {
    const r = createRng('normal');
    const n = 20000;
    const v = r.fillNormal(new Float32Array(n), 0.5);
    let m = 0;
    for (const x of v) m += x;
    m /= n;
    let s = 0;
    for (const x of v) s += (x - m) ** 2;
    const std = Math.sqrt(s / (n - 1));
    expect(Math.abs(m)).toBeLessThan(0.02);
    expect(std).toBeGreaterThan(0.48);
    expect(std).toBeLessThan(0.52);
  });

  it('int is uniform over [0, n) and permutation is a permutation', () => {
    const r = createRng(1);
    const counts = new Array<number>(5).fill(0);
    for (let i = 0; i < 5000; i++) counts[r.int(5)]!++;
    for (const c of counts) expect(c).toBeGreaterThan(900);
    const p = r.permutation(1000);
    expect(Array.from(p).sort((a, b) => a - b)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    expect(Array.from(p)).not.toEqual(Array.from({ length: 1000 }, (_, i) => i));
    const arr = [1, 2, 3, 4, 5, 6];
    expect(r.shuffle(arr).slice().sort()).toEqual([1, 2, 3, 4, 5, 6]);
  });
});
