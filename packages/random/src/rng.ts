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
  /** An independent stream derived from this one's key and a label. */
  fork(label: string | number): Rng;
}

/**
 * What a random stream is for. Every stream is keyed by its purpose first, then by the seed a
 * user gave and any further labels, so streams of different purposes never coincide whatever
 * seeds a pipeline names: the random-reinit control drawn with seed 1 is not w0 drawn with
 * seed 1, and a random mask's draws are not the normals of w0 (which would bias the mask by
 * magnitude). Add a purpose here rather than reusing one for something new.
 */
export const RNG_PURPOSES = [
  'init', // w0: Glorot draws of models/init
  'reinit', // the random re-initialization control (rewinder/random-reinit)
  'random-mask', // the random-pruning control and random pruning (pruner/random)
  'data-order', // the order of training batches, per epoch
  'augment', // random crops and flips of training batches
  'dropout', // dropout masks during training
  'holdout', // which training examples are held out for validation
  'synthetic', // the synthetic stand-in datasets
  'sweep', // sampling sweep parameters
  'test', // tests and benchmarks: arbitrary data
] as const;
export type RngPurpose = (typeof RNG_PURPOSES)[number];

/**
 * The stream for `purpose` with `seed`, further separated by `labels` (e.g. 'epoch', 3). The
 * key is `purpose|seed|label/label...`; since a purpose comes from a closed list and is first,
 * no seed or label can make two purposes share a stream.
 */
export function createRng(purpose: RngPurpose, seed: number | string, ...labels: (string | number)[]): Rng {
  if (!(RNG_PURPOSES as readonly string[]).includes(purpose))
    throw new Error(`createRng: unknown purpose '${String(purpose)}' (one of ${RNG_PURPOSES.join(', ')})`);
  return rngFromKey(`${purpose}|${String(seed)}|${labels.join('/')}`);
}

function rngFromKey(key: string): Rng {
  const rand = seedrandom.alea(key);
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
    fork: (label) => rngFromKey(`${key}/${label}`),
  };
  return rng;
}
