import { z } from 'zod';
import {
  LIMITS,
  limitText,
  listText,
  NAME_RE,
  PipelineError,
  SegmentName,
  Source,
  UsageError,
  zodDiagnostics,
  type Diagnostic,
  type Plan,
} from '@lth/pipeline';

const Num = z.number().refine(Number.isFinite, 'must be a finite number');

export const ParamSpace = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('uniform'), low: Num, high: Num, points: z.number().int().min(2).optional() }),
  z.strictObject({ type: z.literal('loguniform'), low: Num.positive(), high: Num.positive(), points: z.number().int().min(2).optional() }),
  z.strictObject({ type: z.literal('int'), low: z.number().int(), high: z.number().int(), step: z.number().int().positive().default(1) }),
  z.strictObject({ type: z.literal('choice'), values: z.array(z.union([z.string(), z.number(), z.boolean()])).min(1) }),
]);
export type ParamSpace = z.output<typeof ParamSpace>;

export const Objective = z.strictObject({
  /** Expanded id of a stage with a metrics output, e.g. `dense` or `round[3].train`. */
  stage: z.string().min(1),
  /** `<split>.<accuracy|loss>@<earlyStop|last|min|max>`. */
  metric: z
    .string()
    .regex(
      /^(train|validation|test)\.(accuracy|loss)@(earlyStop|last|min|max)$/,
      'expected <train|validation|test>.<accuracy|loss>@<earlyStop|last|min|max>, e.g. validation.accuracy@earlyStop',
    ),
  direction: z.enum(['maximize', 'minimize']),
});
export type Objective = z.output<typeof Objective>;

export const PrunerSpec = z
  .strictObject({
    type: z.enum(['sha', 'asha', 'none']).default('sha'),
    eta: z.number().int().min(2).default(3),
    minBudget: z.number().int().positive().optional(),
    maxBudget: z.number().int().positive().optional(),
    /** The pipeline param a trial's budget (training iterations) is written to. */
    budgetParam: z.string().regex(NAME_RE).default('iterations'),
    /**
     * restart (the default when absent): a promoted trial trains again from zero at the next
     * rung's budget. single-run (asha only): each trial trains once at maxBudget and is stopped
     * at a rung when its intermediate value is not good enough. Optional, not defaulted, so
     * that studies made before the field existed keep their space hash.
     */
    mode: z.enum(['restart', 'single-run']).optional(),
  })
  .refine((p) => p.mode !== 'single-run' || p.type === 'asha', {
    message: "mode 'single-run' needs type 'asha' (a running trial cannot wait for a synchronous rung to fill)",
    path: ['mode'],
  })
  .refine((p) => p.type === 'none' || (p.minBudget !== undefined && p.maxBudget !== undefined), {
    message: 'sha and asha need minBudget and maxBudget',
    path: ['type'],
  })
  .refine((p) => p.minBudget === undefined || p.maxBudget === undefined || p.minBudget <= p.maxBudget, {
    message: 'minBudget must not exceed maxBudget',
    path: ['minBudget'],
  });
export type PrunerSpec = z.output<typeof PrunerSpec>;

export const SweepSpace = z.strictObject({
  /** Names the study directory (.lth/sweeps/<name>); default: the pipeline's name. */
  name: SegmentName.optional(),
  description: z.string().optional(),
  seed: z.number().int().default(0),
  sampler: z.enum(['random', 'grid']).default('random'),
  /** Number of trials; for grid, default (and at most) the grid's size. */
  trials: z.number().int().positive().optional(),
  params: z
    .record(z.string().regex(NAME_RE, 'must match [A-Za-z_][A-Za-z0-9_-]*'), ParamSpace)
    .refine((p) => Object.keys(p).length > 0, 'give at least one parameter'),
  objective: Objective,
  pruner: PrunerSpec.default({ type: 'none', eta: 3, budgetParam: 'iterations' }),
  /** Trials (trial-rungs) run at once. */
  parallel: z.number().int().positive().default(1),
});
export type SweepSpace = z.output<typeof SweepSpace>;

/** A validated space and the source it came from (for located errors against the pipeline). */
export interface LoadedSpace {
  space: SweepSpace;
  src: Source;
  /** Where the space sits in `src`: [] for a space file, ['sweep'] for a pipeline's `sweep:` block. */
  base?: Array<string | number>;
}

/** Fixed columns of trials.arrow, which params sit beside. */
const RESERVED = ['trial', 'budget', 'state', 'value', 'error'];

export function loadSpace(file: string): LoadedSpace {
  return spaceFromSource(Source.read(file));
}

export function spaceFromText(file: string, text: string): LoadedSpace {
  return spaceFromSource(Source.parse(file, text));
}

/**
 * The `sweep:` block of a pipeline file, the alternative to `--space` (the pipeline schema
 * accepts it and `lth run` ignores it). Errors point into the pipeline file under `sweep.`.
 */
export function spaceFromPipeline(file: string): LoadedSpace {
  const src = Source.read(file);
  if (src.parseErrors.length) throw new PipelineError(src.parseErrors.slice(0, 5));
  const doc = src.value() as Record<string, unknown> | null;
  if (!doc || typeof doc !== 'object' || doc['sweep'] === undefined)
    throw new UsageError(`${file}: no 'sweep:' block; give the search space with --space FILE`);
  return spaceFromSource(src, ['sweep']);
}

function spaceFromSource(src: Source, base: Array<string | number> = []): LoadedSpace {
  if (src.parseErrors.length) throw new PipelineError(src.parseErrors.slice(0, 5));
  const at = (path: Array<string | number>) => [...base, ...path];
  const root = base.length ? (src.value() as Record<string, unknown>)[base[0] as string] : src.value();
  const parsed = SweepSpace.safeParse(root ?? {});
  const errors: Diagnostic[] = parsed.success ? [] : zodDiagnostics(src, base, parsed.error);
  if (parsed.success) {
    for (const [name, p] of Object.entries(parsed.data.params)) {
      if (RESERVED.includes(name))
        errors.push(src.diag(at(['params', name]), `'${name}' names a column of trials.arrow; reserved: ${RESERVED.join(', ')}`, true));
      if (p.type !== 'choice' && p.low > p.high) errors.push(src.diag(at(['params', name, 'low']), `low (${p.low}) is above high (${p.high})`));
      if (parsed.data.sampler === 'grid' && (p.type === 'uniform' || p.type === 'loguniform') && p.points === undefined) {
        errors.push(src.diag(at(['params', name]), `the grid sampler needs 'points' (how many values) for a ${p.type} parameter`));
      }
    }
  }
  if (parsed.success) {
    const over = tooManyTrials(parsed.data);
    if (over) errors.push(src.diag(at([over.at]), over.message));
  }
  if (errors.length || !parsed.success) throw new PipelineError(errors);
  return { space: parsed.data, src, base };
}

/**
 * Why the space has more trials than LIMITS.trials, or undefined. A grid's size is the product
 * of the value counts, computed without listing the grid (the sampler lists all of it).
 */
function tooManyTrials(space: SweepSpace): { at: string; message: string } | undefined {
  if (space.sampler === 'random') {
    const n = space.trials ?? 0;
    return n > LIMITS.trials ? { at: 'trials', message: `${n} trials; ${limitText('trials', 'trials per sweep')}` } : undefined;
  }
  const counts = Object.entries(space.params).map(([name, p]) => {
    const n = p.type === 'choice' ? p.values.length : p.type === 'int' ? Math.floor((p.high - p.low) / p.step) + 1 : (p.points ?? 2);
    return [name, Math.max(0, n)] as const;
  });
  const size = counts.reduce((a, [, n]) => a * n, 1);
  if (size <= LIMITS.trials) return undefined;
  const each = counts.map(([name, n]) => `${name}: ${n}`).join(' x ');
  return { at: 'params', message: `the grid has ${size} combinations (${each}); ${limitText('trials', 'trials per sweep')}` };
}

/**
 * Checks the space against the pipeline it sweeps (plan loaded with the defaults): every
 * swept param and the budget param are pipeline params, and the objective's stage exists and
 * has a metrics output. Errors point into the space file.
 */
export function checkSpaceAgainst({ space, src, base = [] }: LoadedSpace, plan: Plan): string {
  const errors: Diagnostic[] = [];
  const at = (path: Array<string | number>) => [...base, ...path];
  const params = Object.keys(plan.params);
  for (const name of Object.keys(space.params)) {
    if (!params.includes(name))
      errors.push(src.diag(at(['params', name]), `'${name}' is not a param of pipeline '${plan.name}'; valid: ${listText(params) || '(none)'}`, true));
  }
  const budget = space.pruner.budgetParam;
  if (space.pruner.type !== 'none' || space.pruner.maxBudget !== undefined) {
    if (!params.includes(budget))
      errors.push(
        src.diag(at(['pruner', 'budgetParam']), `budget param '${budget}' is not a param of pipeline '${plan.name}'; valid: ${listText(params) || '(none)'}`),
      );
    if (budget in space.params) errors.push(src.diag(at(['params', budget]), `'${budget}' is the budget param; it cannot also be swept`, true));
  }
  const node = plan.nodes.find((n) => n.id === space.objective.stage);
  let port = '';
  if (!node)
    errors.push(
      src.diag(at(['objective', 'stage']), `no stage '${space.objective.stage}' in pipeline '${plan.name}'; stages: ${listText(plan.nodes.map((n) => n.id))}`),
    );
  else {
    port = Object.entries(node.def.outputs).find(([, o]) => o.kind === 'metrics')?.[0] ?? '';
    if (!port) errors.push(src.diag(at(['objective', 'stage']), `stage '${node.id}' (${node.uses}) has no metrics output`));
  }
  if (errors.length) throw new PipelineError(errors);
  return port;
}
