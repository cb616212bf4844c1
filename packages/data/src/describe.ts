import { SPLITS, splitView, type SplitName } from '@lth/artifacts';
import { loadDataset, type LoadOptions, type LoadReport } from './load';
import { DATASET_NAMES, loadManifest, type DatasetName } from './manifest';
import { locateFile, type Origin, type SourceOptions } from './sources';
import { classCounts } from './splits';

/** `generated`: the synthetic dataset, made from its seed, needs no files. */
export type Availability = Origin | 'missing' | 'generated';

export interface DatasetListing {
  name: DatasetName | 'synthetic';
  description: string;
  /** Where the dataset would come from now: the worst of its files (cache < local < download < missing). */
  source: Availability;
  files: { name: string; source: Availability; from: string }[];
}

const ORDER: Availability[] = ['cache', 'local', 'download', 'missing'];

/** Every dataset with a manifest and where its files would come from, without reading them. */
export function listDatasets(opts: SourceOptions = {}): DatasetListing[] {
  const listed: DatasetListing[] = DATASET_NAMES.map((name) => {
    const manifest = loadManifest(name);
    const files = Object.keys(manifest.files).map((role) => {
      const at = locateFile(manifest, role, opts);
      return { name: manifest.files[role]!.name, source: at.origin, from: at.from };
    });
    const worst = files.reduce<Availability>((acc, f) => (ORDER.indexOf(f.source) > ORDER.indexOf(acc) ? f.source : acc), 'cache');
    return { name, description: manifest.description, source: worst, files };
  });
  listed.push({ name: 'synthetic', description: 'seeded class prototypes plus noise, 8x8x1, 10 classes (for tests and smoke runs)', source: 'generated', files: [] });
  return listed;
}

export interface DatasetDescription {
  name: string;
  /** Where the files came from, e.g. "local: /usr/share/datasets/fashion-mnist/...". */
  source: string;
  classes: string[];
  splits: Record<SplitName, { count: number; classCounts: number[] }>;
}

/**
 * Loads a dataset (default split: 5,000 validation, seed 0) and counts its examples per split
 * and class; what `lth datasets show NAME --json` prints.
 */
export async function describeDataset(
  name: string,
  opts: LoadOptions & { validation?: number; seed?: number } = {},
): Promise<DatasetDescription> {
  const report: LoadReport = { files: {} };
  const { validation, seed, ...loadOpts } = opts;
  const ds = await loadDataset({ dataset: name as DatasetName, validation, seed }, loadOpts, report);
  const origins = [...new Set(Object.values(report.files).map((f) => f.origin))];
  const source =
    name === 'synthetic'
      ? 'generated'
      : origins.length === 1
        ? `${origins[0]}: ${commonDir(Object.values(report.files).map((f) => f.from))}`
        : Object.entries(report.files).map(([role, f]) => `${role} ${f.origin}: ${f.from}`).join('; ');
  const splits = Object.fromEntries(
    SPLITS.map((s) => {
      const v = splitView(ds, s);
      return [s, { count: v.count, classCounts: classCounts(v.labels, ds.meta.classes.length) }];
    }),
  ) as DatasetDescription['splits'];
  return { name: ds.meta.name, source, classes: ds.meta.classes, splits };
}

function commonDir(paths: string[]): string {
  if (paths.length === 1) return paths[0]!;
  const parts = paths.map((p) => p.split('/'));
  const first = parts[0]!;
  let n = 0;
  while (n < first.length - 1 && parts.every((p) => p[n] === first[n])) n++;
  return first.slice(0, n).join('/') || '/';
}
