import { diffParts, type KeyParts } from '../cache/key';
import type { ArtifactStore, EntryMeta } from '../cache/store';

/**
 * Why a stage misses the cache: compared with the newest entry made for the same pipeline
 * and expanded stage id, which key parts differ.
 */
export class MissExplainer {
  private byPath: Map<string, EntryMeta> | undefined;
  constructor(private readonly store: ArtifactStore) {}

  private index(): Map<string, EntryMeta> {
    if (!this.byPath) {
      this.byPath = new Map();
      for (const m of this.store.list()) {
        const k = `${m.pipeline}\0${m.path}`;
        const prev = this.byPath.get(k);
        if (!prev || prev.timings.finishedAt < m.timings.finishedAt) this.byPath.set(k, m);
      }
    }
    return this.byPath;
  }

  why(pipeline: string, path: string, parts: KeyParts): string {
    const prev = this.index().get(`${pipeline}\0${path}`);
    if (!prev) return 'no cache entry for this stage yet';
    const diffs = diffParts(prev.parts, parts);
    return diffs.length ? diffs.join('; ') : 'entry was removed or found corrupt';
  }
}
