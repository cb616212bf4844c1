/**
 * Every size limit on a pipeline (or sweep space) file, in one place, with the reason for each
 * number. docs/PIPELINES.md ("Limits") lists them for users. Each is checked BEFORE the work it
 * bounds is done (the file is not read past its limit, a range's round count is computed
 * arithmetically, the expanded stages are counted before they are built), and exceeding one is
 * a located exit-2 error naming the limit, never a hang, a heap exhaustion or a stack trace.
 *
 * The largest shipped pipeline (pipelines/lenet-mnist.yaml) is 3.5 KB, nests 7 levels, uses no
 * aliases and expands to 124 stages; every limit leaves two or more orders of magnitude of room
 * above that while keeping `lth graph` on a limit-sized file around a second.
 */
export const LIMITS = {
  /**
   * Size of a pipeline or space file. 1 MiB is ~300x the largest real pipeline; YAML parsing is
   * linear (about 1 s per MiB here), so this bounds parse time and memory. The file is never
   * read beyond this many bytes (a FIFO or /dev/zero cannot stall the read).
   */
  fileBytes: 1024 * 1024,
  /**
   * Alias nodes (`*name`) in one file. Aliases are the one YAML feature whose cost is not
   * proportional to the file's size; real pipelines use none or a handful.
   */
  aliases: 1000,
  /**
   * Nodes (every mapping, sequence, key and scalar) of the document with every alias expanded.
   * A 1 MiB file without aliases has at most ~525,000 nodes, so only an alias "bomb" (an alias of
   * a list of aliases of a list ...: 10^9 nodes from 600 bytes) reaches this.
   */
  documentNodes: 1_000_000,
  /**
   * Nesting depth of mappings and sequences, aliases expanded. Pipelines nest about 7 levels
   * (stages.g.stages.s.with.rate.fc); validation and interpolation recurse once per level.
   */
  depth: 64,
  /**
   * Rounds of one `foreach` (the size of its range `FROM..TO`, or its count `N`). The paper's
   * iterative runs use 5-30 rounds. FROM and TO must also be safe integers (|x| < 2^53).
   */
  rounds: 10_000,
  /**
   * Stages of the expanded pipeline (foreach groups unrolled). Shipped pipelines have 19-124;
   * 10,000 stages plan in about a second and keep run records and `lth graph` readable.
   */
  stages: 10_000,
  /**
   * Combinations of a `matrix:` (the product of its axes' value counts, computed before any is
   * expanded). Each is a whole copy of the pipeline; the paper's largest use is 5 seeds x a few
   * settings. The stage limit above applies to all combinations together.
   */
  matrixCombinations: 256,
  /**
   * Input bindings of the expanded pipeline: a `g[*].s` reference binds one artifact per round,
   * so a reference repeated in every round grows with rounds^2.
   */
  inputBindings: 100_000,
  /**
   * Characters (as JSON) that `${...}` interpolation produces over the whole expansion: each
   * round copies its group's stages and each `${params}` splices the params in, so without a
   * bound a small file could expand (and then hash, per stage) gigabytes.
   */
  expandedChars: 16 * 1024 * 1024,
  /**
   * Trials of a sweep: `trials` for the random sampler, the size of the grid (the product of the
   * parameters' value counts, computed without listing it) for the grid sampler, which lists
   * every combination. Each trial is a pipeline run, so 10,000 is far past any real study.
   */
  trials: 10_000,
  /*
   * Cache entries (not pipeline files: passing one of these makes an entry corrupt, recomputed,
   * not a validation error). The local cache checks an entry's entry.json size; a remote store
   * checks every one on a manifest before it downloads anything (packages/cluster), so a hostile
   * or broken manifest cannot make a machine fetch a terabyte or millions of files.
   */
  /** Size of an entry's entry.json (or a remote manifest): a real one is a few KB. */
  entryJsonBytes: 16 * 1024 * 1024,
  /**
   * Size of one file of an entry: the largest file Node's readFileSync reads (2 GiB - 1), which
   * is how an artifact is read, so a larger one could not be used anyway; ~25x VGG-19's weights.
   */
  entryFileBytes: 2 ** 31 - 1,
  /** Files of one entry: a stage writes its outputs and a few extra files (a report's figures). */
  entryFiles: 10_000,
  /** All files of one entry together: a trainer's entry is at most a few hundred MB. */
  entryBytes: 64 * 1024 ** 3,
} as const;

export type LimitName = keyof typeof LIMITS;

/** `the limit is 10000 stages per pipeline (LIMITS.stages; see ...)`: the tail of every limit message. */
export function limitText(name: LimitName, what: string): string {
  return `the limit is ${LIMITS[name]} ${what} (LIMITS.${name}; see "Limits" in docs/PIPELINES.md)`;
}

/**
 * How many rounds `from..to` has (`label` is how the file wrote it, for the message), computed
 * without iterating, or why the range is refused. FROM and TO must be safe integers: past 2^53
 * `r++` no longer changes `r`, so a loop over such a range would never end.
 */
export function roundCount(from: number, to: number, label: string): number | string {
  if (!Number.isSafeInteger(from) || !Number.isSafeInteger(to)) return `${label}: FROM and TO must be safe integers (magnitude below 2^53)`;
  const n = to - from + 1;
  if (n > LIMITS.rounds) return `${label} gives ${n} rounds; ${limitText('rounds', 'rounds per foreach')}`;
  return n;
}

/**
 * Why adding `adding` stages (`what`, e.g. "10000000 rounds x 5 stages") to the `current`
 * already expanded would pass LIMITS.stages, or undefined. Called before the stages are built.
 */
export function tooManyStages(current: number, adding: number, what: string): string | undefined {
  if (current + adding <= LIMITS.stages) return undefined;
  return `${what} would expand the pipeline to ${current + adding} stages; ${limitText('stages', 'stages per pipeline')}`;
}

/** Why `total` input bindings pass LIMITS.inputBindings, or undefined. */
export function tooManyBindings(total: number): string | undefined {
  if (total <= LIMITS.inputBindings) return undefined;
  return `the expanded pipeline passes ${LIMITS.inputBindings} input bindings here (a GROUP[*] reference binds one per round); ${limitText('inputBindings', 'bindings per pipeline')}`;
}

/**
 * A running total charged as the expansion produces output; `charge` answers false once the
 * total passes the limit (the caller then reports it and stops).
 */
export class ExpansionBudget {
  used = 0;
  constructor(readonly limit: number = LIMITS.expandedChars) {}

  charge(n: number): boolean {
    this.used += n;
    return this.used <= this.limit;
  }

  get exceeded(): boolean {
    return this.used > this.limit;
  }
}
