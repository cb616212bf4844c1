import { z } from 'zod';
import { PathEscapeError, safeSegment } from '@lth/artifacts';

/** Stage and group names: used in ids such as `round[3].train`, so no dots or brackets. */
export const NAME_RE = /^[A-Za-z_][A-Za-z0-9_-]*$/;
const Name = z.string().regex(NAME_RE, 'must match [A-Za-z_][A-Za-z0-9_-]*');

/**
 * A name that becomes a path segment: the pipeline's name (runs/<time>-<name>.json, the default
 * study directory .lth/sweeps/<name>) and a sweep's name. `..` or `.` would name a directory
 * outside (or the whole of) the one it belongs in, so the name must be a plain segment as
 * `safeSegment` (@lth/artifacts) defines it, from the narrower alphabet [A-Za-z0-9_.-].
 */
export const SegmentName = z.string().refine((v) => /^[A-Za-z0-9_.-]+$/.test(v) && isSafeSegment(v), {
  message: "must be a plain name: 1-200 characters of [A-Za-z0-9_.-], not '.' or '..' (it names files and directories)",
});

function isSafeSegment(name: string): boolean {
  try {
    safeSegment(name, 'name');
    return true;
  } catch (err) {
    if (err instanceof PathEscapeError) return false;
    throw err;
  }
}

/** An input reference (`stage`, `stage.port`, `group[2].member.port`, `group[*].member`) or a list of them. */
export const InputRef = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]);

export const StageSpec = z.strictObject({
  uses: z.string().min(1),
  description: z.string().optional(),
  inputs: z.record(z.string(), InputRef).optional(),
  with: z.record(z.string(), z.unknown()).optional(),
  /**
   * Matrix axes this stage collects across (top-level stages only): one stage per combination
   * of the other axes, whose inputs gather the references of every variant (in matrix order),
   * and whose `with` sees those params as lists, plus `${matrix.runs}` (the variants gathered).
   */
  over: z.array(Name).min(1).optional(),
});
export type StageSpec = z.output<typeof StageSpec>;

/** `foreach: { r: "1..3", init: { train: dense } }`: one loop variable plus optional `init`. */
export const ForeachSpec = z.object({ init: z.record(Name, z.string().min(1)).optional() }).catchall(z.union([z.string(), z.number().int()]));

export const GroupSpec = z.strictObject({
  description: z.string().optional(),
  foreach: ForeachSpec,
  stages: z.record(Name, StageSpec),
});
export type GroupSpec = z.output<typeof GroupSpec>;

export const PipelineDoc = z.strictObject({
  name: SegmentName,
  description: z.string().optional(),
  params: z.record(Name, z.unknown()).default({}),
  /**
   * Params to run the pipeline for several values of, e.g. `{ seed: [0, 1, 2] }`: every stage
   * is expanded once per combination (the cartesian product, first axis slowest), and stages
   * that come out identical in every combination of an axis are one stage (see matrix.ts).
   */
  matrix: z.record(Name, z.array(z.union([z.string(), z.number(), z.boolean(), z.null()])).min(1)).optional(),
  /**
   * Stage modules this pipeline uses besides the built-in ones: paths relative to this file,
   * or package names resolved from its directory. Loaded before validation, in this process
   * and in every worker process; their code is part of their stages' cache keys.
   */
  plugins: z.array(z.string().min(1)).optional(),
  stages: z.record(Name, z.record(z.string(), z.unknown())),
  /**
   * A search space for `lth sweep FILE` without `--space` (the format of a space file). Not
   * part of the plan: `lth run` ignores it, `lth sweep` validates it (@lth/sweep, packages/sweep/src/space.ts).
   */
  sweep: z.record(z.string(), z.unknown()).optional(),
});
export type PipelineDoc = z.output<typeof PipelineDoc>;

export function isGroup(entry: Record<string, unknown>): boolean {
  return 'foreach' in entry || ('stages' in entry && !('uses' in entry));
}
