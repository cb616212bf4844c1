import { splitView, type Dataset } from '@lth/artifacts';
import { z } from 'zod';
import { parseCifarArchive } from './cifar';
import { parseIdx } from './idx';
import { loadManifest, parseManifest, type Manifest } from './manifest';
import { resolveFiles, type ResolvedFile, type SourceOptions } from './sources';
import { assembleDataset, checkSplitOptions, type RawSplits } from './splits';
import { syntheticDataset } from './synthetic';

export const LOADABLE = ['mnist', 'fashion_mnist', 'cifar10', 'synthetic', 'synthetic_mnist', 'synthetic_cifar10'] as const;

/**
 * Seeded synthetic stand-ins, shaped like the real datasets, so that every pipeline (CIFAR ones
 * included) can run end to end at a tiny scale on a machine without the data.
 */
export const SYNTHETIC_SHAPES = {
  synthetic: [8, 8, 1],
  synthetic_mnist: [28, 28, 1],
  synthetic_cifar10: [32, 32, 3],
} as const satisfies Record<string, readonly [number, number, number]>;

/** Configuration of data/load (and of loadDataset). */
export const LoadConfig = z.object({
  dataset: z.enum(LOADABLE),
  /** Training examples held out for validation, chosen by `seed` (the paper: 5,000). */
  validation: z.number().int().nonnegative().default(5000),
  seed: z.number().int().default(0),
  /** Keep only the first N training examples after the hold-out (small runs); null: all. */
  subset: z.number().int().positive().nullish(),
});
export type LoadConfig = z.output<typeof LoadConfig>;

export interface LoadOptions extends SourceOptions {
  /** Use this manifest instead of datasets/<name>.json (mirrors, tests). */
  manifest?: Manifest;
}

/** The synthetic dataset through data/load: a pool of 250 training and 100 test examples. */
export const SYNTHETIC_POOL = { train: 250, test: 100, maxValidation: 50 } as const;

export interface LoadReport {
  /** Where each file came from: role -> origin and path/URL. */
  files: Record<string, { origin: ResolvedFile['origin']; from: string }>;
}

/**
 * Loads a dataset: finds and verifies its files (cache, copy on the machine, download), decodes
 * them, holds out the validation split and computes normalization statistics on the training
 * split. The returned pixels are uint8; normalization is applied when batches are made.
 */
export async function loadDataset(config: z.input<typeof LoadConfig>, opts: LoadOptions = {}, report?: LoadReport): Promise<Dataset> {
  const parsed = LoadConfig.safeParse(config);
  if (!parsed.success) {
    throw new Error(`data/load config: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
  }
  const cfg = parsed.data;
  const subset = cfg.subset ?? undefined;
  if (cfg.dataset === 'synthetic' || cfg.dataset === 'synthetic_mnist' || cfg.dataset === 'synthetic_cifar10') {
    const shape = [...SYNTHETIC_SHAPES[cfg.dataset]] as [number, number, number];
    const pool = syntheticDataset({ seed: cfg.seed, shape, train: SYNTHETIC_POOL.train, validation: 0, test: SYNTHETIC_POOL.test });
    return assembleDataset(
      { train: splitView(pool, 'train'), test: splitView(pool, 'test') },
      { ...pool.meta, name: cfg.dataset },
      { validation: Math.min(cfg.validation, SYNTHETIC_POOL.maxValidation), seed: cfg.seed, subset },
    );
  }
  // A manifest given in code goes through the same schema as one read from datasets/.
  const manifest = opts.manifest ? parseManifest(`manifest '${opts.manifest.name}' given to loadDataset`, opts.manifest) : loadManifest(cfg.dataset);
  checkSplitOptions(manifest.name, manifest.counts.train, { ...cfg, subset });
  const files = await resolveFiles(manifest, opts);
  if (report) for (const [role, f] of files) report.files[role] = { origin: f.origin, from: f.from };
  const raw = await decode(manifest, files);
  return assembleDataset(
    raw,
    {
      name: manifest.name,
      shape: manifest.shape,
      classes: manifest.classes,
      // Canonical, not where the bytes came from this time: the artifact (and the cache keys of
      // every stage downstream) must not depend on whether a file was cached or downloaded.
      source: { origin: manifest.homepage ?? manifest.name, files: Object.fromEntries([...files.values()].map((f) => [f.entry.name, f.entry.sha256])) },
    },
    { validation: cfg.validation, seed: cfg.seed, subset },
  );
}

async function decode(manifest: Manifest, files: Map<string, ResolvedFile>): Promise<RawSplits> {
  const get = (role: string): ResolvedFile => {
    const f = files.get(role);
    if (!f) throw new Error(`dataset ${manifest.name}: file '${role}' was not resolved`);
    return f;
  };
  const [h, w, c] = manifest.shape;
  if (manifest.format === 'idx') {
    if (c !== 1) throw new Error(`dataset ${manifest.name}: IDX images are single-channel, the manifest shape says ${c} channels`);
    const part = (split: 'train' | 'test') => {
      const n = manifest.counts[split];
      const img = get(`${split}-images`);
      const lab = get(`${split}-labels`);
      const images = parseIdx(img.bytes, img.from, [n, h, w]).data;
      const labels = parseIdx(lab.bytes, lab.from, [n]).data;
      const bad = labels.findIndex((l) => l >= manifest.classes.length);
      if (bad >= 0) throw new Error(`${lab.from}: label ${labels[bad]} of example ${bad} is not a class (0..${manifest.classes.length - 1})`);
      return { images, labels };
    };
    return { train: part('train'), test: part('test') };
  }
  if (h !== 32 || w !== 32 || c !== 3) throw new Error(`dataset ${manifest.name}: CIFAR-10 images are 32x32x3, the manifest shape says ${h}x${w}x${c}`);
  const archive = get('archive');
  const parsed = await parseCifarArchive(archive.bytes, archive.from, { ...manifest.counts, classes: manifest.classes });
  if (parsed.classNames && parsed.classNames.join(',') !== manifest.classes.join(',')) {
    throw new Error(`${archive.from}: batches.meta.txt names the classes ${parsed.classNames.join(', ')}; the manifest says ${manifest.classes.join(', ')}`);
  }
  return parsed;
}
