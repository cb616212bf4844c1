import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { confinedPath, safeSegment } from '@lth/artifacts';
import { z } from 'zod';
import { manifestDir } from './paths';

/**
 * A dataset manifest that cannot be used: not found, not JSON, or invalid. Names the manifest
 * file and the field (`files.train-labels.name`), so the CLI can report it as bad input.
 */
export class ManifestError extends Error {
  constructor(
    readonly file: string,
    readonly problem: string,
    /** The first invalid field, e.g. `files.train-labels.name`, when there is one. */
    readonly field?: string,
  ) {
    super(`${file}: ${problem}`);
    this.name = 'ManifestError';
  }
}

/** True when `check` accepts the value; used to turn the path guards into zod refinements. */
function passes(check: () => unknown): boolean {
  try {
    check();
    return true;
  } catch {
    return false;
  }
}

/**
 * A file name from a manifest becomes a path in the data cache, where lth writes and moves
 * files: it must be one plain name, so no spelling of it can leave that directory. Names
 * starting with '.' are lth's own there (temporary files, `.quarantine/`).
 */
const PlainFileName = z.string().refine((n) => passes(() => safeSegment(n, 'name')) && !n.startsWith('.'), {
  message: "must be a plain file name (1-200 letters, digits, '.', '_', '-', '=', '+'; no '/'; not starting with '.')",
});

const Sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'a lowercase hex sha256 (64 characters)');

/** How a file is fetched when it comes from its URL rather than from a copy on the machine. */
const Download = z.object({
  /** The URL serves the file gzip-compressed; it is decompressed before its sha256 is checked. */
  gzip: z.boolean().default(false),
  /** Size and digests of the bytes as downloaded (before decompression), when known. */
  size: z.number().int().positive().optional(),
  sha256: Sha256.optional(),
  md5: z
    .string()
    .regex(/^[0-9a-f]{32}$/)
    .optional(),
});

export const ManifestFile = z.object({
  /** The file's name in the cache (and in a directory holding a copy). */
  name: PlainFileName,
  /** Size and sha256 of the file's content (decompressed); checked before every use. */
  size: z.number().int().positive(),
  sha256: Sha256,
  /** Canonical source URL. */
  url: z.url(),
  download: Download.optional(),
});
export type ManifestFile = z.output<typeof ManifestFile>;

/** A copy already on the machine: inside an installed npm package, or at an absolute path. */
const LocalSource = z.union([
  z.object({
    npm: z.string().min(1),
    /** A directory inside the package: relative, without '..'. */
    dir: z
      .string()
      .default('.')
      .refine((d) => d === '.' || passes(() => confinedPath('/', d, 'dir')), { message: "must be a relative path inside the package (no '..', not absolute)" }),
    how: z.string(),
  }),
  z.object({ path: z.string().min(1), how: z.string() }),
]);
export type LocalSource = z.output<typeof LocalSource>;

export const FORMATS = ['idx', 'cifar10-binary'] as const;
/** The files each format needs, by role. */
export const FORMAT_ROLES: Record<(typeof FORMATS)[number], readonly string[]> = {
  idx: ['train-images', 'train-labels', 'test-images', 'test-labels'],
  'cifar10-binary': ['archive'],
};

export const Manifest = z
  .object({
    name: z.string().regex(/^[a-z0-9_]+$/),
    description: z.string(),
    homepage: z.string().optional(),
    format: z.enum(FORMATS),
    shape: z.tuple([z.number().int().positive(), z.number().int().positive(), z.number().int().positive()]),
    classes: z.array(z.string()).min(2).max(256),
    counts: z.object({ train: z.number().int().positive(), test: z.number().int().positive() }),
    files: z.record(z.string(), ManifestFile),
    local: z.array(LocalSource).default([]),
  })
  .superRefine((m, ctx) => {
    for (const role of FORMAT_ROLES[m.format]) {
      if (!m.files[role]) ctx.addIssue({ code: 'custom', path: ['files', role], message: `format ${m.format} needs a file with role '${role}'` });
    }
  });
export type Manifest = z.output<typeof Manifest>;

/** The datasets with a manifest shipped in the package (synthetic is generated, not loaded). */
export const DATASET_NAMES = ['mnist', 'fashion_mnist', 'cifar10'] as const;
export type DatasetName = (typeof DATASET_NAMES)[number];

/** The file each loaded manifest came from, for messages that name the file and field. */
const sources = new WeakMap<Manifest, string>();

/** The file a manifest was read from, or how it was given (a manifest built in code). */
export function manifestFile(m: Manifest): string {
  return sources.get(m) ?? `dataset manifest '${m.name}'`;
}

/** `<file>: files.<role>.name`-style location of a manifest field (the file when known). */
export function manifestField(m: Manifest, field: string): string {
  return `${manifestFile(m)}: ${field}`;
}

export function parseManifest(file: string, json: unknown): Manifest {
  const r = Manifest.safeParse(json);
  if (!r.success) {
    const issues = r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new ManifestError(file, `invalid dataset manifest: ${issues}`, r.error.issues[0]?.path.join('.') || undefined);
  }
  sources.set(r.data, file);
  return r.data;
}

export function loadManifest(name: string): Manifest {
  const file = join(manifestDir(), `${name}.json`);
  if (!existsSync(file)) {
    const known = existsSync(manifestDir())
      ? readdirSync(manifestDir())
          .filter((f) => f.endsWith('.json'))
          .map((f) => f.slice(0, -5))
      : [];
    throw new ManifestError(file, `no manifest for dataset '${name}' (known: ${known.join(', ') || 'none'})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ManifestError(file, `not valid JSON: ${(err as Error).message}`);
  }
  const m = parseManifest(file, json);
  if (m.name !== name) throw new ManifestError(file, `field name is '${m.name}', expected '${name}' (the file name)`, 'name');
  return m;
}
