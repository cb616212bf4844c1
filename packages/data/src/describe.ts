import { SPLITS, splitView, type SplitName } from '@lth/artifacts';
import { loadDataset, SYNTHETIC_SHAPES, type LoadOptions, type LoadReport } from './load';
import { DATASET_NAMES, loadManifest, type DatasetName } from './manifest';
import { locateFile, type Origin, type SourceOptions } from './sources';
import { classCounts } from './splits';

/** `generated`: a synthetic dataset, made from its seed, needs no files. */
export type Availability = Origin | 'missing' | 'generated';

export interface DatasetListing {
  name: DatasetName | keyof typeof SYNTHETIC_SHAPES;
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
  for (const [name, [h, w, c]] of Object.entries(SYNTHETIC_SHAPES)) {
    const description = `seeded class prototypes plus noise, ${h}x${w}x${c}, 10 classes (tests and smoke runs without the data)`;
    listed.push({ name: name as keyof typeof SYNTHETIC_SHAPES, description, source: 'generated', files: [] });
  }
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
export async function describeDataset(name: string, opts: LoadOptions & { validation?: number; seed?: number } = {}): Promise<DatasetDescription> {
  const report: LoadReport = { files: {} };
  const { validation, seed, ...loadOpts } = opts;
  const ds = await loadDataset({ dataset: name as DatasetName, validation, seed }, loadOpts, report);
  const origins = [...new Set(Object.values(report.files).map((f) => f.origin))];
  const source =
    name in SYNTHETIC_SHAPES
      ? 'generated'
      : origins.length === 1
        ? `${origins[0]}: ${commonDir(Object.values(report.files).map((f) => f.from))}`
        : Object.entries(report.files)
            .map(([role, f]) => `${role} ${f.origin}: ${f.from}`)
            .join('; ');
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
