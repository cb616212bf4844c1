import { existsSync, readdirSync, rmSync, statSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { alive } from './lock';
import { listRunRecords } from './record';
import type { ArtifactStore, EntryMeta } from './store';

export interface CacheListing {
  key: string;
  pipeline: string;
  path: string;
  stage: string;
  bytes: number;
  finishedAt: string;
}

function dirBytes(dir: string): number {
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    n += e.isDirectory() ? dirBytes(p) : statSync(p).size;
  }
  return n;
}

export function listCache(store: ArtifactStore): CacheListing[] {
  return store
    .list()
    .map((m: EntryMeta) => ({
      key: m.key,
      pipeline: m.pipeline,
      path: m.path,
      stage: m.stage,
      bytes: existsSync(store.entryDir(m.key)) ? dirBytes(store.entryDir(m.key)) : 0,
      finishedAt: m.timings.finishedAt,
    }))
    .sort((a, b) => (a.finishedAt < b.finishedAt ? 1 : -1));
}

export interface GcResult {
  kept: number;
  removed: number;
  freedBytes: number;
  removedRuns: number;
}

/**
 * Removes every entry not needed by the newest `keepRuns` run records nor listed in `keep`
 * (cache keys the given pipelines need now), drops older run records, corrupt entries set
 * aside, and staging directories of processes that no longer exist.
 */
export function gcCache(store: ArtifactStore, opts: { keepRuns: number; keep?: Iterable<string> }): GcResult {
  const keep = new Set(opts.keep ?? []);
  const runs = listRunRecords(store.root);
  let removedRuns = 0;
  runs.forEach(({ file, record }, i) => {
    if (i < opts.keepRuns) {
      for (const s of record.stages) if (s.cacheKey) keep.add(s.cacheKey);
    } else {
      unlinkSync(file);
      removedRuns++;
    }
  });
  let removed = 0;
  let kept = 0;
  let freedBytes = 0;
  const entries = join(store.root, 'entries');
  for (const key of existsSync(entries) ? readdirSync(entries) : []) {
    if (keep.has(key)) {
      kept++;
      continue;
    }
    freedBytes += dirBytes(join(entries, key));
    store.remove(key);
    removed++;
  }
  for (const sub of ['corrupt', 'tmp']) {
    const dir = join(store.root, sub);
    if (!existsSync(dir)) continue;
    for (const name of readdirSync(dir)) {
      const pid = Number(/^[0-9a-f]+-(\d+)-/.exec(name)?.[1]);
      if (sub === 'tmp' && Number.isInteger(pid) && alive(pid)) continue;
      freedBytes += dirBytes(join(dir, name));
      rmSync(join(dir, name), { recursive: true, force: true });
    }
  }
  return { kept, removed, freedBytes, removedRuns };
}
