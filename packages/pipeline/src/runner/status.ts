import { join } from 'node:path';
import type { InputBinding, Plan } from '../definition/plan';
import { MissExplainer } from './explain';
import { cacheKey } from '../cache/key';
import { isForced, keyParts } from './run';
import type { ArtifactStore, Entry } from '../cache/store';

export interface StageStatusLine {
  id: string;
  uses: string;
  /** cached: its entry exists; run: it would be computed. */
  state: 'cached' | 'run';
  why: string;
  cacheKey: string | null;
}

/**
 * What `lth run` would do, without running anything: a stage is cached when every input is
 * cached and its key has a valid entry; otherwise it would run, and `why` names the key part
 * that changed against the newest entry for the same stage (or the upstream stage that runs).
 */
export async function pipelineStatus(plan: Plan, store: ArtifactStore, force: readonly string[] = []): Promise<StageStatusLine[]> {
  const explainer = new MissExplainer(store);
  const entries = new Map<string, Entry>();
  const out: StageStatusLine[] = [];
  for (const node of plan.nodes) {
    const line = (state: StageStatusLine['state'], why: string, key: string | null) =>
      out.push({ id: node.id, uses: node.uses, state, why, cacheKey: key });
    const missing = node.deps.filter((d) => !entries.has(d));
    if (missing.length) {
      line('run', `upstream stage${missing.length > 1 ? 's' : ''} ${missing.join(', ')} will run`, null);
      continue;
    }
    const hashes: Record<string, string | string[]> = {};
    for (const [port, b] of Object.entries(node.inputs)) {
      const sha = (x: InputBinding) => (entries.get(x.stage) as Entry).meta.outputs[x.port]?.sha256 ?? '';
      hashes[port] = Array.isArray(b) ? b.map(sha) : sha(b);
    }
    const parts = keyParts(node, hashes);
    const key = cacheKey(parts);
    if (isForced(node.id, force)) {
      line('run', 'forced (--force)', key);
      continue;
    }
    const e = await store.get(key, { repair: false });
    if (e) {
      entries.set(node.id, e);
      line('cached', `cache hit (${join('entries', key.slice(0, 12))}…)`, key);
    } else line('run', explainer.why(plan.name, node.id, parts), key);
  }
  return out;
}
