import { createRng, RNG_PURPOSES } from './rng';

describe('createRng', () => {
  it('gives the same stream for the same seed and another for another seed', () => {
    const a = createRng('test', 42),
      b = createRng('test', 42),
      c = createRng('test', 43);
    const xa = Array.from({ length: 20 }, () => a.next());
    expect(Array.from({ length: 20 }, () => b.next())).toEqual(xa);
    expect(Array.from({ length: 20 }, () => c.next())).not.toEqual(xa);
    expect(xa.every((x) => x >= 0 && x < 1)).toBe(true);
  });

  it('forks are reproducible and independent of the parent and of each other', () => {
    const p = createRng('test', 7);
    const f1 = p.fork('init'),
      f1b = createRng('test', 7).fork('init'),
      f2 = p.fork('shuffle');
    const s1 = Array.from({ length: 10 }, () => f1.next());
    expect(Array.from({ length: 10 }, () => f1b.next())).toEqual(s1);
    expect(Array.from({ length: 10 }, () => f2.next())).not.toEqual(s1);
    // Drawing from a fork does not move the parent.
    const q = createRng('test', 7);
    q.fork('x').next();
    expect(q.next()).toBe(createRng('test', 7).next());
  });

  it('draws normals with mean ~0 and std ~1, and fillNormal scales them', () => {
    const r = createRng('test', 'normal');
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
    const r = createRng('test', 1);
    const counts = new Array<number>(5).fill(0);
    for (let i = 0; i < 5000; i++) counts[r.int(5)]!++;
    for (const c of counts) expect(c).toBeGreaterThan(900);
    const p = r.permutation(1000);
    expect(Array.from(p).sort((a, b) => a - b)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    expect(Array.from(p)).not.toEqual(Array.from({ length: 1000 }, (_, i) => i));
    const arr = [1, 2, 3, 4, 5, 6];
    expect(r.shuffle(arr).slice().sort()).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('never gives two purposes the same stream, whatever the seeds (seeds 0..5)', () => {
    const firsts = new Map<string, string>();
    for (const purpose of RNG_PURPOSES) {
      for (let seed = 0; seed <= 5; seed++) {
        for (const labels of [[], ['round', 1], ['round', 2]] as (string | number)[][]) {
          const r = createRng(purpose, seed, ...labels);
          const key = Array.from({ length: 4 }, () => r.next()).join(',');
          const who = `${purpose}/${seed}/${labels.join('/')}`;
          expect(firsts.get(key)).toBeUndefined();
          firsts.set(key, who);
        }
      }
    }
    // A seed written like another purpose's key does not reach that stream either.
    expect(createRng('test', 'init|1|').next()).not.toBe(createRng('init', 1).next());
    expect(() => createRng('nope' as never, 1)).toThrow("createRng: unknown purpose 'nope'");
  });
});
