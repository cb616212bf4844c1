import { Field, Float32, Int32, List, Uint8, Utf8, type Schema } from 'apache-arrow';
import { z } from 'zod';
import { checkArtifact, fail, guardRead } from './check';
import { columnData, listData, listRow, utf8Column, utf8Data, int32List } from './columns';
import { makeBatch, readIpcFile, schemaWithMeta, writeIpcFile } from './ipc';

export const TENSORS_KIND = 'tensors';
export const TENSORS_VERSION = 1;

/**
 * What each tensor of a model is, declared by the model zoo. Pruners choose by role; only the
 * PRUNABLE_ROLES are ever pruned. `buffer` is non-trained state (batch-norm running stats).
 */
export const WEIGHT_ROLES = ['conv', 'fc', 'output', 'shortcut', 'bias', 'batchnorm', 'buffer'] as const;
export const WeightRole = z.enum(WEIGHT_ROLES);
export type WeightRole = z.output<typeof WeightRole>;
export const PRUNABLE_ROLES: readonly WeightRole[] = ['conv', 'fc', 'output', 'shortcut'];
export function isPrunable(role: WeightRole): boolean {
  return PRUNABLE_ROLES.includes(role);
}

/** A model architecture as stored with its weights: the zoo name and its options. */
export const ModelRef = z.object({
  arch: z.string().min(1),
  options: z.record(z.string(), z.unknown()).default({}),
});
export type ModelRef = z.output<typeof ModelRef>;

/** What a bundle holds: weights (init, trained, checkpoint, rewound, reinit) or a mask. */
export const BundleContent = z.enum(['init', 'trained', 'checkpoint', 'rewound', 'reinit', 'mask']);

export const TensorsMeta = z.object({
  content: BundleContent,
  model: ModelRef,
  /** Training iteration the weights belong to (trained, checkpoint, rewound from). */
  iteration: z.number().int().nonnegative().optional(),
  seed: z.number().int().optional(),
  /** Free-form provenance (e.g. the pruning round and rate); never used for computation. */
  info: z.record(z.string(), z.unknown()).optional(),
});
export type TensorsMeta = z.output<typeof TensorsMeta>;

export type TensorValues = Float32Array | Uint8Array;
export interface NamedTensor<V extends TensorValues = TensorValues> {
  name: string;
  role: WeightRole;
  shape: number[];
  values: V;
}
/** Named tensors of one dtype: float32 weights, or uint8 masks (1 = kept, 0 = pruned). */
export interface TensorBundle<V extends TensorValues = TensorValues> {
  meta: TensorsMeta;
  tensors: NamedTensor<V>[];
}
export type WeightBundle = TensorBundle<Float32Array>;
export type MaskBundle = TensorBundle<Uint8Array>;

/** Record batches are cut at this many values (16 MiB of float32), so huge bundles stream. */
export const VALUES_PER_BATCH = 4 * 1024 * 1024;

function bundleSchema(dtype: 'float32' | 'uint8', meta: TensorsMeta): Schema {
  const item = dtype === 'float32' ? new Float32() : new Uint8();
  return schemaWithMeta(
    [
      new Field('name', new Utf8(), false),
      new Field('role', new Utf8(), false),
      new Field('shape', new List(new Field('item', new Int32(), false)), false),
      new Field('dtype', new Utf8(), false),
      new Field('values', new List(new Field('item', item, false)), false),
    ],
    TENSORS_KIND,
    TENSORS_VERSION,
    meta,
  );
}

export function bundleDtype(bundle: TensorBundle): 'float32' | 'uint8' {
  const first = bundle.tensors[0];
  if (first) return first.values instanceof Uint8Array ? 'uint8' : 'float32';
  return bundle.meta.content === 'mask' ? 'uint8' : 'float32';
}

export function tensorSize(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

function checkBundle(file: string, bundle: TensorBundle, dtype: 'float32' | 'uint8'): void {
  const seen = new Set<string>();
  for (const t of bundle.tensors) {
    if (seen.has(t.name)) fail(file, `duplicate tensor name '${t.name}'`);
    seen.add(t.name);
    if ((t.values instanceof Uint8Array ? 'uint8' : 'float32') !== dtype) {
      fail(file, `tensor '${t.name}' is not ${dtype} like the rest of the bundle`);
    }
    if (!t.shape.every((d) => Number.isInteger(d) && d >= 0)) fail(file, `tensor '${t.name}' has invalid shape [${t.shape}]`);
    if (tensorSize(t.shape) !== t.values.length) {
      fail(file, `tensor '${t.name}' has ${t.values.length} values but shape [${t.shape}] needs ${tensorSize(t.shape)}`);
    }
  }
}

/** Writes a bundle; tensors larger than a batch get a batch of their own and are not copied. */
export async function writeTensors(file: string, bundle: TensorBundle): Promise<void> {
  const dtype = bundleDtype(bundle);
  checkBundle(file, bundle, dtype);
  TensorsMeta.parse(bundle.meta);
  const schema = bundleSchema(dtype, bundle.meta);
  const groups: NamedTensor[][] = [];
  let current: NamedTensor[] = [];
  let count = 0;
  for (const t of bundle.tensors) {
    if (current.length > 0 && count + t.values.length > VALUES_PER_BATCH) {
      groups.push(current);
      current = [];
      count = 0;
    }
    current.push(t);
    count += t.values.length;
  }
  if (current.length > 0 || groups.length === 0) groups.push(current);
  function* batches() {
    for (const group of groups) {
      const offsets = new Int32Array(group.length + 1);
      group.forEach((t, i) => (offsets[i + 1] = (offsets[i] as number) + t.values.length));
      const total = offsets[group.length] as number;
      let flat: TensorValues;
      if (group.length === 1) flat = (group[0] as NamedTensor).values;
      else {
        flat = dtype === 'float32' ? new Float32Array(total) : new Uint8Array(total);
        group.forEach((t, i) => flat.set(t.values, offsets[i]));
      }
      yield makeBatch(schema, group.length, [
        utf8Data(group.map((t) => t.name)),
        utf8Data(group.map((t) => t.role)),
        int32List(group.map((t) => t.shape)),
        utf8Data(group.map(() => dtype)),
        listData(dtype === 'float32' ? new Float32() : new Uint8(), flat, offsets),
      ]);
    }
  }
  await writeIpcFile(file, schema, batches());
}

/** Reads a bundle; tensor values are views into the file's buffer (no per-tensor copy). */
export function readTensors(file: string, opts: { sha256?: string } = {}): TensorBundle {
  return guardRead(file, () => {
    const read = readIpcFile(file, opts);
    const meta = checkArtifact(
      file,
      read,
      TENSORS_KIND,
      TENSORS_VERSION,
      [
        ['name', 'Utf8'],
        ['role', 'Utf8'],
        ['shape', 'List<Int32>'],
        ['dtype', 'Utf8'],
        ['values', /^List<(Float32|Uint8)>$/],
      ],
      TensorsMeta,
    );
    const tensors: NamedTensor[] = [];
    for (const batch of read.table.batches) {
      const names = utf8Column(batch, 'name');
      const roles = utf8Column(batch, 'role');
      const dtypes = utf8Column(batch, 'dtype');
      const shapes = columnData(batch, 'shape');
      const values = columnData(batch, 'values');
      for (let i = 0; i < batch.numRows; i++) {
        const name = names[i] as string;
        const role = WeightRole.safeParse(roles[i]);
        if (!role.success) fail(file, `tensor '${name}' has unknown role '${roles[i]}' (valid: ${WEIGHT_ROLES.join(', ')})`);
        const shape = Array.from(listRow<Int32Array>(shapes, i));
        const v = listRow<TensorValues>(values, i);
        const dtype = v instanceof Uint8Array ? 'uint8' : 'float32';
        if (dtypes[i] !== dtype) fail(file, `tensor '${name}' says dtype '${dtypes[i]}' but holds ${dtype}`);
        if (tensorSize(shape) !== v.length) fail(file, `tensor '${name}' has ${v.length} values but shape [${shape}]`);
        tensors.push({ name, role: role.data, shape, values: v });
      }
    }
    return { meta, tensors };
  });
}

/** Looks a tensor up by name, with an error that lists the names there are. */
export function getTensor<V extends TensorValues>(bundle: TensorBundle<V>, name: string): NamedTensor<V> {
  const t = bundle.tensors.find((x) => x.name === name);
  if (!t) throw new Error(`no tensor '${name}' in bundle (has: ${bundle.tensors.map((x) => x.name).join(', ')})`);
  return t;
}
