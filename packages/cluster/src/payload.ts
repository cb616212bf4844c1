import { z } from 'zod';
import { ARTIFACT_KINDS, type ArtifactKind } from '@lth/artifacts';
import type { StageTask, TaskInput } from '@lth/pipeline';
import type { RemoteStore } from './remote-store';

/**
 * A stage job on the queue: plain data, validated by the worker before anything else. It
 * names a registered stage id and its raw config (parsed by that stage's zod schema where it
 * runs), the cache key with its parts, and each input by the remote entry and content hash
 * that hold it. Nothing in it is a path or a module: a payload cannot make a worker load code
 * or touch a file outside its cache.
 */
const Sha = z.string().regex(/^[0-9a-f]{64}$/);
const Name = z.string().min(1).max(200);
const Kind = z.enum(ARTIFACT_KINDS as unknown as [ArtifactKind, ...ArtifactKind[]]);

export const JobInput = z.strictObject({ stage: Name, port: Name, kind: Kind, sha256: Sha, entry: Sha });
export type JobInput = z.output<typeof JobInput>;

export const JobPayload = z.strictObject({
  version: z.literal(1),
  id: z.string().min(1).max(1000),
  uses: z.string().regex(/^[a-z0-9][a-z0-9_-]*\/[a-z0-9][a-z0-9_/-]*$/i, 'a registered stage id such as trainer/train'),
  pipeline: z.string().max(1000),
  rawConfig: z.unknown(),
  key: Sha,
  parts: z.strictObject({
    stage: z.string(),
    code: z.string(),
    config: z.string(),
    inputs: z.record(Name, z.union([Sha, z.array(Sha)])),
  }),
  inputs: z.record(Name, z.union([JobInput, z.array(JobInput)])),
});
export type JobPayload = z.output<typeof JobPayload>;

/** What a worker returns for a job: who ran it and on which attempt (1 = the first), for the run record. */
export const JobResult = z.object({ host: z.string(), worker: z.string(), reused: z.boolean(), attempts: z.number().int().positive().optional() });
export type JobResult = z.output<typeof JobResult>;

/** The payload of a task: each input named by the entry that produced it (the store saw it resolved). */
export function toPayload(task: StageTask, store: RemoteStore): JobPayload {
  const input = (b: TaskInput): JobInput => {
    const entry = store.producerOf(b.sha256);
    if (!entry) throw new Error(`input ${b.stage}.${b.port} (${b.sha256.slice(0, 12)}) has no known cache entry`);
    return { stage: b.stage, port: b.port, kind: b.kind, sha256: b.sha256, entry };
  };
  return {
    version: 1,
    id: task.id,
    uses: task.uses,
    pipeline: task.pipeline,
    rawConfig: task.rawConfig ?? {},
    key: task.key,
    parts: task.parts,
    inputs: Object.fromEntries(Object.entries(task.inputs).map(([p, b]) => [p, Array.isArray(b) ? b.map(input) : input(b)])),
  };
}
