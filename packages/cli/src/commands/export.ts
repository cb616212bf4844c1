import { existsSync, statSync } from 'node:fs';
import { basename, dirname, isAbsolute, resolve, sep } from 'node:path';
import { ArtifactError, bundleDtype, readArtifact, type ArtifactKind, type ArtifactTypes, type MaskBundle, type WeightBundle } from '@lth/artifacts';
import { listRunRecords, LocalStore, readRunRecord, resolveCacheDir, UsageError, type Entry, type RunRecord, type StageRecord } from '@lth/pipeline';
import { EXPORT_FORMATS, exportFileNames, ExportInputError, exportModel, ExportTargetExistsError, type ExportFormat } from '@lth/models';
import type { Register } from '../common';

/** An artifact named on the command line, with where it came from. */
interface Resolved<K extends ArtifactKind> {
  flag: string;
  file: string;
  value: ArtifactTypes[K];
  /** The expanded stage id and cache key that produced it, when it is a cache entry's output. */
  stage?: string;
  cacheKey?: string;
  pipeline?: string;
  /** The verified cache entry it is an output of, and its store. */
  entry?: Entry;
  store?: LocalStore;
}

/** The run whose stages `--weights round[3].train` and the like name (as `lth report` picks one). */
function findRun(run: string | undefined, cacheDir: string, warn: (m: string) => void): RunRecord {
  if (run?.endsWith('.json')) {
    const read = readRunRecord(run);
    if ('problem' in read) throw new UsageError(`--run ${run}: ${read.problem}`);
    return read.record;
  }
  const runs = listRunRecords(cacheDir, warn);
  const rec = runs.find((r) => !run || r.record.name === run)?.record;
  if (!rec)
    throw new UsageError(
      `no run record${run ? ` '${run}'` : ''} in ${cacheDir}/runs; runs: ${
        runs
          .slice(0, 10)
          .map((r) => r.record.name)
          .join(', ') || '(none)'
      }`,
    );
  return rec;
}

/** A stage reference: `stage` (its port named `port`, or its only output) or `stage.port`. */
function findOutput(rec: RunRecord, ref: string, flag: string, port: string): { stage: StageRecord; port: string } {
  const byId = (id: string) => rec.stages.find((s) => s.id === id);
  let stage = byId(ref);
  let p: string | undefined;
  if (!stage && ref.includes('.')) {
    stage = byId(ref.slice(0, ref.lastIndexOf('.')));
    p = ref.slice(ref.lastIndexOf('.') + 1);
  }
  if (!stage)
    throw new UsageError(
      `${flag} ${ref}: run ${rec.name} (${rec.recordFile ?? rec.file}) has no stage '${ref}'; stages: ${rec.stages
        .map((s) => s.id)
        .slice(0, 20)
        .join(', ')}`,
    );
  if (stage.status !== 'ran' && stage.status !== 'cached')
    throw new UsageError(`${flag} ${ref}: stage '${stage.id}' of run ${rec.name} did not complete (${stage.status})`);
  const ports = Object.keys(stage.outputs);
  p ??= ports.includes(port) ? port : ports.length === 1 ? ports[0] : undefined;
  if (!p || !ports.includes(p))
    throw new UsageError(`${flag} ${ref}: stage '${stage.id}' has no output '${p ?? port}'; outputs: ${ports.join(', ') || '(none)'}`);
  return { stage, port: p };
}

/** Reads an artifact, verified against its cache entry when it is one; bad files are bad input naming the file. */
async function load<K extends ArtifactKind>(
  flag: string,
  file: string,
  kind: K,
  at?: { entry: Entry; store: LocalStore; port?: string },
): Promise<Resolved<K>> {
  try {
    const sha256 = at?.port ? at.entry.meta.outputs[at.port]?.sha256 : undefined;
    const value = readArtifact(file, kind, sha256 ? { sha256 } : {});
    return {
      flag,
      file,
      value,
      ...(at ? { stage: at.entry.meta.path, cacheKey: at.entry.key, pipeline: at.entry.meta.pipeline, entry: at.entry, store: at.store } : {}),
    };
  } catch (err) {
    if (err instanceof ArtifactError) throw new UsageError(`${flag}: ${err.message}`);
    throw err;
  }
}

/** The verified cache entry `key`, or bad input saying what is wrong with it. */
async function verifiedEntry(store: LocalStore, key: string, what: string): Promise<Entry> {
  const entry = await store.get(key, { repair: false });
  if (entry) return entry;
  const problem = (await store.check(key)) ?? 'it is not in the cache';
  throw new UsageError(`${what}: cache entry ${key.slice(0, 12)} cannot be used: ${problem} (lth cache verify; rerunning the pipeline recomputes it)`);
}

/** `--x ref`: a file (ends in .arrow or has a path separator), else a stage of the run. */
async function resolveRef<K extends ArtifactKind>(
  ref: string,
  flag: string,
  kind: K,
  port: string,
  ctx: { run: () => RunRecord; cacheDir: string },
): Promise<Resolved<K>> {
  if (ref.endsWith('.arrow') || ref.includes('/') || ref.includes(sep)) {
    const file = resolve(ref);
    if (!existsSync(file) || !statSync(file).isFile()) throw new UsageError(`${flag} ${ref}: no such file`);
    // An output of a cache entry (entries/<key>/<port>.arrow) is verified and carries its provenance.
    const dir = dirname(file);
    if (basename(dirname(dir)) === 'entries' && existsSync(resolve(dir, 'entry.json'))) {
      const store = new LocalStore(dirname(dirname(dir)));
      const entry = await verifiedEntry(store, basename(dir), `${flag} ${ref}`);
      const p = Object.entries(entry.meta.outputs).find(([, o]) => resolve(dir, o.file) === file)?.[0];
      return load(flag, file, kind, { entry, store, port: p });
    }
    return load(flag, file, kind);
  }
  const rec = ctx.run();
  const { stage, port: p } = findOutput(rec, ref, flag, port);
  if (!stage.cacheKey) throw new UsageError(`${flag} ${ref}: stage '${stage.id}' has no cache key in the run record`);
  const store = new LocalStore(rec.cacheDir || ctx.cacheDir);
  const entry = await verifiedEntry(store, stage.cacheKey, `${flag} ${ref}`);
  const out = entry.meta.outputs[p];
  if (!out) throw new UsageError(`${flag} ${ref}: cache entry ${stage.cacheKey.slice(0, 12)} has no output '${p}'`);
  return load(flag, resolve(entry.dir, out.file), kind, { entry, store, port: p });
}

/**
 * The artifact the weights' stage took on `port` (the mask it was trained with, its dataset):
 * its entry records the input's producing stage, port and sha256, found again in the same cache.
 */
function boundInput(w: Resolved<'tensors'>, port: string): string | undefined {
  const b = w.entry?.meta.inputs[port] as { stage?: unknown; port?: unknown; sha256?: unknown } | undefined;
  if (!b || !w.store || typeof b.port !== 'string' || typeof b.sha256 !== 'string') return undefined;
  const metas = w.store.list();
  const found = [...metas.filter((m) => m.path === b.stage), ...metas].find((m) => m.outputs[b.port as string]?.sha256 === b.sha256);
  return found ? resolve(w.store.entryDir(found.key), found.outputs[b.port]!.file) : undefined;
}

function format(v: string): ExportFormat {
  if (!(EXPORT_FORMATS as readonly string[]).includes(v)) throw new UsageError(`--format must be one of ${EXPORT_FORMATS.join(', ')}, got '${v}'`);
  return v as ExportFormat;
}

interface ExportOpts {
  weights: string;
  mask?: string | false;
  data?: string;
  run?: string;
  format: ExportFormat;
  out: string;
  force?: boolean;
  cacheDir?: string;
  json?: boolean;
}

export const registerExport: Register = (program, io) => {
  program
    .command('export')
    .description('write a trained (masked) network for tfjs (LayersModel) and PyTorch (safetensors + module), with its input normalization')
    .requiredOption('--weights <ref>', 'weights: a stage of the run (round[3].train, or stage.port) or a tensors .arrow file')
    .option('--mask <ref>', "mask: a stage or a file (default: the mask the weights' stage was trained with)")
    .option('--no-mask', 'export without a mask even if the weights were trained with one')
    .option(
      '--data <ref>',
      "dataset (for its normalization): a stage or a file (default: the weights' stage's data input, else the run's only data/load stage)",
    )
    .option('--run <run>', 'run record file or pipeline name whose stages the refs name (default: the newest run)')
    .option('--format <format>', `${EXPORT_FORMATS.join(' | ')}`, format, 'both')
    .requiredOption('--out <dir>', 'output directory')
    .option('--force', 'overwrite existing files in --out')
    .option('--cache-dir <dir>', 'cache directory (default: $LTH_CACHE_DIR or .lth/cache)')
    .option('--json', 'print JSON: the files written and the provenance')
    .action(async (opts: ExportOpts) => {
      const cacheDir = resolveCacheDir(opts.cacheDir);
      let rec: RunRecord | undefined;
      const ctx = { cacheDir, run: () => (rec ??= findRun(opts.run, cacheDir, (m) => io.err(`warning: ${m}\n`))) };
      const out = isAbsolute(opts.out) ? opts.out : resolve(opts.out);
      // Refuse to overwrite before any work (exportModel checks again as it writes).
      if (!opts.force) {
        const taken = exportFileNames(opts.format)
          .map((n) => resolve(out, n))
          .find((f) => existsSync(f));
        if (taken) throw new UsageError(`--out: ${taken} exists (--force overwrites it)`);
      }
      const weights = await resolveRef(opts.weights, '--weights', 'tensors', 'weights', ctx);
      if (bundleDtype(weights.value) !== 'float32') throw new UsageError(`--weights: ${weights.file} holds a mask, not weights`);
      // Defaults: the mask and data the weights' stage was trained with.
      const maskRef = opts.mask === false ? undefined : (opts.mask ?? boundInput(weights, 'mask'));
      const mask = maskRef ? await resolveRef(maskRef, '--mask', 'tensors', 'mask', ctx) : undefined;
      if (mask && bundleDtype(mask.value) !== 'uint8') throw new UsageError(`--mask: ${mask.file} holds '${mask.value.meta.content}' weights, not a mask`);
      const loads = rec?.stages.filter((s) => s.uses === 'data/load') ?? [];
      const dataRef = opts.data ?? boundInput(weights, 'data') ?? (loads.length === 1 ? loads[0]!.id : undefined);
      if (!dataRef) throw new UsageError(`--data is needed: the dataset's normalization goes into the export, and ${weights.file} names no dataset`);
      const data = await resolveRef(dataRef, '--data', 'dataset', 'dataset', ctx);
      const seed = rec && typeof rec.params.seed === 'number' ? rec.params.seed : undefined;
      const provenance = {
        pipeline: weights.pipeline,
        stage: weights.stage,
        cacheKey: weights.cacheKey,
        ...(seed !== undefined ? { seed } : {}),
        ...(rec?.recordFile ? { run: rec.recordFile } : {}),
        ...(weights.cacheKey ? {} : { weightsFile: weights.file }),
        ...(mask ? { maskStage: mask.stage, maskCacheKey: mask.cacheKey, ...(mask.cacheKey ? {} : { maskFile: mask.file }) } : {}),
        dataStage: data.stage,
        dataCacheKey: data.cacheKey,
        exportedBy: 'lth export',
      };
      try {
        const r = await exportModel(
          {
            weights: weights.value as WeightBundle,
            mask: mask?.value as MaskBundle | undefined,
            normalization: data.value.meta.normalization,
            classes: data.value.meta.classes,
            provenance,
          },
          { format: opts.format, dir: out, overwrite: opts.force },
        );
        if (opts.json)
          return io.out(
            `${JSON.stringify({ dir: r.dir, files: r.files, weights: weights.file, mask: mask?.file ?? null, data: data.file, provenance }, null, 2)}\n`,
          );
        io.out(
          `exported ${weights.value.meta.model.arch} from ${weights.stage ?? weights.file}${mask ? ` with mask ${mask.stage ?? mask.file}` : ' (no mask)'}, normalization of ${data.value.meta.name}:\n`,
        );
        for (const f of r.files) io.out(`  ${f}\n`);
      } catch (err) {
        if (err instanceof ExportTargetExistsError) throw new UsageError(`--out: ${err.file} exists (--force overwrites it)`);
        if (err instanceof ExportInputError) throw new UsageError(`--weights ${weights.file}${mask ? ` --mask ${mask.file}` : ''}: ${err.message}`);
        throw err;
      }
    });
};
