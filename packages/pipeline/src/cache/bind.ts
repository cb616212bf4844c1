import { canonicalJson, confinedPath, type ArtifactKind } from '@lth/artifacts';
import type { InputBinding, PlanNode } from '../definition/plan';
import { codeFingerprint } from './fingerprint';
import { cacheKey, type KeyParts } from './key';
import type { Entry } from './store';

/** One bound input artifact, already verified in the store. */
export interface TaskInput {
  stage: string;
  port: string;
  file: string;
  kind: ArtifactKind;
  sha256: string;
  /** How long the producing stage took (its entry's timings): for reports, never for outputs. */
  computeMs?: number;
}

/** A stage's inputs bound to the entries of its dependencies, and the cache key that follows. */
export interface BoundStage {
  inputs: Record<string, TaskInput | TaskInput[]>;
  parts: KeyParts;
  key: string;
}

/** The parts of a stage's cache key: its stage id, code fingerprint, parsed config, input hashes. */
export function keyParts(node: PlanNode, hashes: Record<string, string | string[]>): KeyParts {
  return { stage: node.uses, code: codeFingerprint(node.code), config: canonicalJson(node.config ?? null), inputs: hashes };
}

/**
 * Binds each input port of `node` to the output file of the entry its dependency resolved to,
 * and computes the key. The one place keys are made: `lth run` and `lth status` agree by
 * construction. Throws when a dependency has no entry (or lacks the bound output).
 */
export function bindInputs(node: PlanNode, entryOf: (stage: string) => Entry | undefined): BoundStage {
  const inputs: Record<string, TaskInput | TaskInput[]> = {};
  const hashes: Record<string, string | string[]> = {};
  for (const [port, b] of Object.entries(node.inputs)) {
    const bind = (x: InputBinding): TaskInput => {
      const e = entryOf(x.stage);
      const out = e?.meta.outputs[x.port];
      if (!e || !out) throw new Error(`input '${port}': ${x.stage}.${x.port} has no cache entry`);
      // e.dir is a run's pinned copy when links work: exactly the verified files.
      const file = confinedPath(e.dir, out.file, `cache entry ${e.key.slice(0, 12)} output '${x.port}'`);
      return { stage: x.stage, port: x.port, file, kind: out.kind, sha256: out.sha256, computeMs: e.meta.timings.durationMs };
    };
    const v = Array.isArray(b) ? b.map(bind) : bind(b);
    inputs[port] = v;
    hashes[port] = Array.isArray(v) ? v.map((x) => x.sha256) : v.sha256;
  }
  const parts = keyParts(node, hashes);
  return { inputs, parts, key: cacheKey(parts) };
}
