import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ArtifactError } from '../errors';
import { ARTIFACT_KINDS, readArtifact, writeArtifact, type ArtifactKind, type ArtifactTypes } from '../kinds';
import { MetricSplit } from '../metrics';
import { WeightRole, tensorSize } from '../tensors';
import { SAMPLES } from './samples';

/** A small seeded PRNG (mulberry32): the same seed gives the same mutations everywhere. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Values that make good lengths and offsets to plant in a file. */
const NASTY = [0, 1, 7, 8, 0x7f, 0xff, 0x7fff, 0xffff, 0x7fffffff, 0x80000000, 0xffffffff, 0x10000];

/** One mutation of a valid file, described so that a failure can be replayed. */
export function mutate(orig: Buffer, next: () => number): { bytes: Buffer; how: string } {
  const pick = (n: number) => Math.floor(next() * n);
  const mode = pick(10);
  if (mode < 5) {
    // Flip or overwrite 1-4 random bytes.
    const bytes = Buffer.from(orig);
    const edits: string[] = [];
    for (let k = 1 + pick(4); k > 0; k--) {
      const at = pick(bytes.length);
      bytes[at] = next() < 0.5 ? bytes[at]! ^ (1 << pick(8)) : pick(256);
      edits.push(`${at}=${bytes[at]}`);
    }
    return { bytes, how: `bytes ${edits.join(',')}` };
  }
  if (mode < 8) {
    // Plant a 32-bit value at an aligned spot: the shape of every length and offset field.
    const bytes = Buffer.from(orig);
    const at = 4 * pick(Math.floor(bytes.length / 4));
    const value = NASTY[pick(NASTY.length)]!;
    bytes.writeUInt32LE(value, at);
    return { bytes, how: `u32 ${at}=${value}` };
  }
  if (mode === 8) {
    const length = pick(orig.length);
    return { bytes: orig.subarray(0, length), how: `truncate to ${length}` };
  }
  // Extend: random bytes inserted before the trailer (footer length + magic), so the magic
  // still matches and the footer length now points elsewhere; or appended after it.
  const extra = Buffer.from(Array.from({ length: 1 + pick(64) }, () => pick(256)));
  if (next() < 0.5) return { bytes: Buffer.concat([orig, extra]), how: `append ${extra.length}` };
  const cut = orig.length - 10;
  return { bytes: Buffer.concat([orig.subarray(0, cut), extra, orig.subarray(cut)]), how: `insert ${extra.length} before trailer` };
}

/** Throws unless a value read from a mutated file is a well-formed value of its kind. */
export function checkWellFormed<K extends ArtifactKind>(kind: K, value: ArtifactTypes[K]): void {
  const ok = (cond: boolean, what: string) => {
    if (!cond) throw new Error(`ill-formed ${kind}: ${what}`);
  };
  const num = (x: unknown) => typeof x === 'number';
  if (kind === 'dataset') {
    const d = value as ArtifactTypes['dataset'];
    ok(d.images.length === d.labels.length * tensorSize(d.meta.shape), 'image bytes vs rows');
    ok(
      d.labels.every((l) => l < d.meta.classes.length),
      'labels within classes',
    );
  } else if (kind === 'tensors') {
    const b = value as ArtifactTypes['tensors'];
    for (const t of b.tensors) {
      ok(typeof t.name === 'string' && WeightRole.safeParse(t.role).success, 'name and role');
      ok(t.values instanceof Float32Array || t.values instanceof Uint8Array, 'values typed');
      ok(t.shape.every((s) => Number.isInteger(s) && s >= 0) && tensorSize(t.shape) === t.values.length, 'shape vs values');
    }
  } else if (kind === 'metrics') {
    for (const r of (value as ArtifactTypes['metrics']).rows) {
      ok(Number.isInteger(r.iteration) && MetricSplit.safeParse(r.split).success && num(r.loss) && num(r.accuracy), 'row fields');
    }
  } else if (kind === 'sparsity') {
    for (const l of (value as ArtifactTypes['sparsity']).layers) {
      ok(typeof l.layer === 'string' && WeightRole.safeParse(l.role).success, 'layer and role');
      ok(Number.isInteger(l.total) && Number.isInteger(l.remaining) && num(l.fraction), 'counts');
    }
  } else {
    const t = value as ArtifactTypes['table'];
    for (const row of t.rows) {
      ok(Object.keys(row).length === t.meta.columns.length, 'one cell per column');
      for (const c of t.meta.columns) {
        const v = row[c.name];
        ok(v === null || typeof v === (c.type === 'float64' ? 'number' : 'string'), `cell '${c.name}' type`);
      }
    }
  }
}

export interface FuzzReport {
  tried: number;
  rejected: number;
  read: number;
  perKind: Record<string, { tried: number; rejected: number; read: number }>;
  /** Anything other than an ArtifactError naming the file, or an ill-formed value. */
  failures: string[];
}

/**
 * Writes one valid file of every kind, then reads `perKind` mutations of each through
 * readArtifact without a sha256 (the defensive path). `onTry` is told each mutation first, so
 * a caller watching from outside can say which one hung.
 */
export async function fuzzArtifacts(dir: string, seed: number, perKind: number, onTry?: (what: string) => void): Promise<FuzzReport> {
  const report: FuzzReport = { tried: 0, rejected: 0, read: 0, perKind: {}, failures: [] };
  for (const kind of ARTIFACT_KINDS) {
    const original = join(dir, `${kind}.arrow`);
    await writeArtifact(original, kind, SAMPLES[kind]() as never);
    const orig = readFileSync(original);
    const next = rng(seed ^ (ARTIFACT_KINDS.indexOf(kind) * 0x9e3779b1));
    const counts = { tried: 0, rejected: 0, read: 0 };
    for (let i = 0; i < perKind; i++) {
      const { bytes, how } = mutate(orig, next);
      const file = join(dir, `${kind}-mutated.arrow`);
      writeFileSync(file, bytes);
      const what = `${kind} #${i} (${how})`;
      onTry?.(what);
      counts.tried++;
      try {
        checkWellFormed(kind, readArtifact(file, kind));
        counts.read++;
      } catch (err) {
        if (err instanceof ArtifactError && err.message.startsWith(`${file}: `)) counts.rejected++;
        else report.failures.push(`${what}: ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`);
      }
    }
    report.perKind[kind] = counts;
    report.tried += counts.tried;
    report.rejected += counts.rejected;
    report.read += counts.read;
  }
  return report;
}
