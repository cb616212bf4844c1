import type { StageOutcome } from '@lth/artifacts';
import { bindInputs } from '../cache/bind';
import { shortEntryPath } from '../cache/layout';
import type { ArtifactStore, Entry } from '../cache/store';
import { isForced } from '../definition/force';
import type { Plan } from '../definition/plan';
import { MissExplainer } from './explain';

export interface StageStatusLine {
  id: string;
  uses: string;
  /** The outcome `lth run` would have: cached (its entry exists) or ran (it would be computed). */
  state: Extract<StageOutcome, 'cached' | 'ran'>;
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
    const line = (state: StageStatusLine['state'], why: string, key: string | null) => out.push({ id: node.id, uses: node.uses, state, why, cacheKey: key });
    const missing = node.deps.filter((d) => !entries.has(d));
    if (missing.length) {
      line('ran', `upstream stage${missing.length > 1 ? 's' : ''} ${missing.join(', ')} will run`, null);
      continue;
    }
    const { parts, key } = bindInputs(node, (id) => entries.get(id));
    if (isForced(node.id, force)) {
      line('ran', 'forced (--force)', key);
      continue;
    }
    const e = await store.get(key, { repair: false });
    if (e) {
      entries.set(node.id, e);
      line('cached', `cache hit (${shortEntryPath(key)}…)`, key);
    } else line('ran', explainer.why(plan.name, node.id, parts), key);
  }
  return out;
}
