import { canonicalJson, hashBytes } from '@lth/artifacts';

/** The parts a cache key is made of; stored in the entry's manifest so `lth status` can say which changed. */
export interface KeyParts {
  /** Registered stage id (`trainer/train`). */
  stage: string;
  /** Code fingerprint of the stage's package (see fingerprint.ts). */
  code: string;
  /** Canonical JSON of the parsed config (defaults applied). */
  config: string;
  /** Input port → sha256 of each bound artifact (a list for `many` ports). */
  inputs: Record<string, string | string[]>;
}

export function cacheKey(parts: KeyParts): string {
  return hashBytes(canonicalJson({ v: 1, stage: parts.stage, code: parts.code, config: parts.config, inputs: parts.inputs }));
}

/** Human-readable differences between the parts of an old and a new key. */
export function diffParts(old: KeyParts, now: KeyParts): string[] {
  const out: string[] = [];
  if (old.stage !== now.stage) out.push(`stage changed (${old.stage} -> ${now.stage})`);
  if (old.code !== now.code) out.push(`code changed (${now.stage} package fingerprint ${old.code.slice(0, 8)} -> ${now.code.slice(0, 8)})`);
  if (old.config !== now.config) {
    const fields = changedFields(safeParse(old.config), safeParse(now.config), '');
    out.push(`config changed${fields.length ? `: ${fields.join(', ')}` : ''}`);
  }
  const ports = new Set([...Object.keys(old.inputs), ...Object.keys(now.inputs)]);
  const changed = [...ports].filter((p) => canonicalJson(old.inputs[p] ?? null) !== canonicalJson(now.inputs[p] ?? null));
  if (changed.length) out.push(`input changed: ${changed.sort().join(', ')}`);
  return out;
}

function safeParse(s: string): unknown {
  try {
    return JSON.parse(s);
  } catch {
    return s;
  }
}

function changedFields(a: unknown, b: unknown, path: string): string[] {
  const isObj = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
  if (isObj(a) && isObj(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
    return keys.flatMap((k) => changedFields(a[k], b[k], path ? `${path}.${k}` : k));
  }
  if (canonicalJson(a ?? null) === canonicalJson(b ?? null)) return [];
  return [`${path || '(value)'} ${JSON.stringify(a)} -> ${JSON.stringify(b)}`];
}
