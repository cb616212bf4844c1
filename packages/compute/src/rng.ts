import seedrandom from 'seedrandom';

/**
 * A seeded random stream shared by every package (initialization, shuffling, dropout masks,
 * random pruning). It is plain JS, so a seed gives the same numbers on every tfjs backend.
 */
export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
  /** Standard normal (Box-Muller). */
  normal(): number;
  /** Uniform integer in [0, n). */
  int(n: number): number;
  /** Fisher-Yates shuffle in place; returns the array. */
  shuffle<T extends { length: number; [i: number]: unknown }>(a: T): T;
  /** A permutation of 0..n-1. */
  permutation(n: number): Int32Array;
  /** Fills an array with N(0, std^2) values. */
  fillNormal(out: Float32Array, std: number): Float32Array;
  /** An independent stream derived from this one's seed and a label. */
  fork(label: string | number): Rng;
}

export function createRng(seed: number | string): Rng {
  const rand = seedrandom.alea(String(seed));
  let spare: number | null = null;
  const rng: Rng = {
    next: () => rand(),
    normal() {
      if (spare !== null) {
        const s = spare;
        spare = null;
        return s;
      }
      let u = 0;
      while (u === 0) u = rand();
      const v = rand();
      const r = Math.sqrt(-2 * Math.log(u));
      spare = r * Math.sin(2 * Math.PI * v);
      return r * Math.cos(2 * Math.PI * v);
    },
    int: (n) => Math.floor(rand() * n),
    shuffle(a) {
      for (let i = a.length - 1; i > 0; i--) {
        const j = Math.floor(rand() * (i + 1));
        const t = a[i];
        a[i] = a[j];
        a[j] = t;
      }
      return a;
    },
    permutation(n) {
      const p = new Int32Array(n);
      for (let i = 0; i < n; i++) p[i] = i;
      return rng.shuffle(p);
    },
    fillNormal(out, std) {
      for (let i = 0; i < out.length; i++) out[i] = rng.normal() * std;
      return out;
    },
    fork: (label) => createRng(`${seed}/${label}`),
  };
  return rng;
}
