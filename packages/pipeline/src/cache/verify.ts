import type { ArtifactStore } from './store';

export interface VerifyResult {
  checked: number;
  corrupt: Array<{ key: string; problem: string; fixed: boolean }>;
}

/**
 * Checks every entry: its manifest against its schema, every file listed with its sha256 and
 * size, no file unlisted, every path inside the entry. With `fix`, each corrupt entry is moved
 * to corrupt/ under its key's lock (after checking again: a run may have just replaced it).
 */
export async function verifyCache(store: ArtifactStore, opts: { fix?: boolean } = {}): Promise<VerifyResult> {
  const result: VerifyResult = { checked: 0, corrupt: [] };
  for (const key of store.keys().sort()) {
    result.checked++;
    const problem = await store.check(key);
    if (problem === undefined) continue;
    let fixed = false;
    if (opts.fix) {
      if (!/^[0-9a-f]{64}$/.test(key)) {
        store.quarantineName(key);
        fixed = true;
      } else {
        const release = await store.lock(key);
        try {
          if ((await store.check(key)) !== undefined) store.quarantine(key);
          fixed = true;
        } finally {
          release();
        }
      }
    }
    result.corrupt.push({ key, problem, fixed });
  }
  return result;
}
