import type { Dataset, DatasetMeta } from '@lth/artifacts';
import { createRng } from '@lth/compute';
import { channelStats } from './normalize';

export interface SyntheticOptions {
  seed: number;
  /** [height, width, channels]; default [8, 8, 1]. */
  shape?: [number, number, number];
  /** Number of classes; default 10 (like MNIST and CIFAR-10, so the model zoo's heads fit). */
  classes?: number;
  /** Examples per split; defaults 200 / 50 / 100. */
  train?: number;
  validation?: number;
  test?: number;
  /** Standard deviation of the pixel noise, in [0, 255] units; default 40. */
  noise?: number;
}

/**
 * A tiny seeded dataset for tests: every class has its own random prototype image, and each
 * example is its class prototype plus Gaussian noise, so a small model learns it quickly and
 * well above chance. Labels cycle through the classes in a shuffled order, so every split has
 * (nearly) balanced classes. The same options give the same bytes on every machine.
 */
export function syntheticDataset(opts: SyntheticOptions): Dataset {
  const shape = opts.shape ?? [8, 8, 1];
  const classes = opts.classes ?? 10;
  const counts = { train: opts.train ?? 200, validation: opts.validation ?? 50, test: opts.test ?? 100 };
  const noise = opts.noise ?? 40;
  for (const [k, v] of Object.entries(counts)) {
    if (!Number.isInteger(v) || v < 0) throw new Error(`syntheticDataset: ${k} must be a non-negative integer, got ${v}`);
  }
  if (!Number.isInteger(classes) || classes < 2 || classes > 256) {
    throw new Error(`syntheticDataset: classes must be an integer in 2..256, got ${classes}`);
  }
  if (!shape.every((d) => Number.isInteger(d) && d > 0)) {
    throw new Error(`syntheticDataset: shape must be three positive integers, got [${shape.join(', ')}]`);
  }
  const size = shape[0] * shape[1] * shape[2];
  const rng = createRng('synthetic', opts.seed);
  const protoRng = rng.fork('prototypes');
  // Prototypes mostly near black or white: far apart from each other, like digit strokes.
  const protos = new Float32Array(classes * size);
  for (let i = 0; i < protos.length; i++) protos[i] = protoRng.next() < 0.35 ? 200 + protoRng.next() * 55 : protoRng.next() * 40;
  const n = counts.train + counts.validation + counts.test;
  const images = new Uint8Array(n * size);
  const labels = new Uint8Array(n);
  const sampleRng = rng.fork('samples');
  let row = 0;
  for (const split of ['train', 'validation', 'test'] as const) {
    const order = sampleRng.permutation(classes);
    for (let i = 0; i < counts[split]; i++, row++) {
      const label = order[i % classes] as number;
      labels[row] = label;
      for (let p = 0; p < size; p++) {
        const v = (protos[label * size + p] as number) + sampleRng.normal() * noise;
        images[row * size + p] = v < 0 ? 0 : v > 255 ? 255 : Math.round(v);
      }
    }
  }
  const meta: DatasetMeta = {
    name: 'synthetic',
    shape: [shape[0], shape[1], shape[2]],
    classes: Array.from({ length: classes }, (_, i) => `class_${i}`),
    splits: {
      train: { offset: 0, count: counts.train },
      validation: { offset: counts.train, count: counts.validation },
      test: { offset: counts.train + counts.validation, count: counts.test },
    },
    normalization: channelStats(images.subarray(0, counts.train * size), shape[2]),
    source: { origin: `synthetic (seed ${opts.seed}, noise ${noise})`, files: {} },
    seed: opts.seed,
  };
  return { meta, images, labels };
}
