import { existsSync, readFileSync } from 'node:fs';
import { delimiter, dirname, isAbsolute, join, resolve } from 'node:path';
import { z } from 'zod';
import { ARTIFACT_KINDS, type AnyStageDef } from '@lth/artifacts';

/** A stage known to the engine. */
export interface RegisteredStage {
  def: AnyStageDef;
  /** Where it comes from, for people: the npm package name or the module path it was loaded by. */
  package: string;
  /**
   * The module file that registers it (absolute): what a worker process loads, and whose code
   * is fingerprinted into cache keys. Undefined for a stage added in code with `add` (no
   * module): only an in-process executor can run it, and `package` is fingerprinted.
   */
  module?: string;
}

/** The name of the package whose entry point `file` is (for people: `@lth/trainer`), or undefined. */
function packageNameOf(file: string): string | undefined {
  for (let dir = dirname(file); dirname(dir) !== dir; dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (!existsSync(manifest)) continue;
    try {
      const pj = JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string; main?: unknown; exports?: unknown };
      const targets: string[] = [];
      const collect = (v: unknown): void => {
        if (typeof v === 'string') targets.push(resolve(dir, v));
        else if (v && typeof v === 'object') Object.values(v).forEach(collect);
      };
      collect(pj.main);
      collect(pj.exports);
      return pj.name && targets.includes(file) ? pj.name : undefined;
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/** Extra stage modules (paths or package names) from LTH_STAGE_MODULES, `:`-separated. */
export function extraStageModules(env: NodeJS.ProcessEnv = process.env): string[] {
  return (env['LTH_STAGE_MODULES'] ?? '')
    .split(delimiter)
    .map((s) => s.trim())
    .filter(Boolean)
    .map((s) => (s.startsWith('.') || isAbsolute(s) ? resolve(s) : s));
}

/**
 * The module file a stage module specifier names: a path (relative to `from`) or a package
 * name resolved from `from` (Node's lookup), or from this process when `from` is not given.
 */
export function resolveStageModule(spec: string, from?: string): string {
  if (spec.startsWith('.') || isAbsolute(spec)) return require.resolve(resolve(from ?? process.cwd(), spec));
  return from === undefined ? require.resolve(spec) : require.resolve(spec, { paths: [from] });
}

const PortSpecShape = z.object({
  kind: z.enum(ARTIFACT_KINDS as unknown as [string, ...string[]]),
  many: z.boolean().optional(),
  optional: z.boolean().optional(),
});
/** What the engine relies on in a stage definition (a plugin's is checked before it registers). */
const StageDefShape = z.object({
  id: z.string().regex(/^[^/\s]+\/[^/\s]+$/, "must be '<package>/<name>'"),
  description: z.string(),
  config: z.custom<z.ZodType>((v) => !!v && typeof (v as { safeParse?: unknown }).safeParse === 'function', 'must be a zod schema'),
  inputs: z.record(z.string(), PortSpecShape),
  outputs: z.record(z.string(), PortSpecShape),
  run: z.custom<AnyStageDef['run']>((v) => typeof v === 'function', 'must be a function'),
  setup: z.custom<NonNullable<AnyStageDef['setup']>>((v) => typeof v === 'function', 'must be a function').optional(),
});

/** What is wrong with a stage definition (`field: problem`), or undefined. */
export function stageDefProblem(def: unknown): string | undefined {
  const r = StageDefShape.safeParse(def);
  if (r.success) return undefined;
  const i = r.error.issues[0];
  return `${i?.path.join('.') || '(definition)'}: ${i?.message ?? 'invalid'}`;
}

export class Registry {
  private readonly byId = new Map<string, RegisteredStage>();
  private readonly issues: string[] = [];
  private readonly loaded = new Map<string, string[]>();

  constructor(entries: RegisteredStage[] = []) {
    for (const e of entries) this.add(e.def, e.package, e.module);
  }

  /** Registers one stage; a conflicting id is refused (and said why). */
  add(def: AnyStageDef, pkg: string, module?: string): string | undefined {
    const prev = this.byId.get(def.id);
    if (prev && prev.def !== def) {
      const problem = `stage id '${def.id}' is exported by both ${prev.package} and ${pkg}; keeping ${prev.package}`;
      this.issues.push(problem);
      return problem;
    }
    this.byId.set(def.id, { def, package: pkg, ...(module ? { module } : {}) });
    return undefined;
  }

  /**
   * Registers every stage of a module's `stages` export (if it is an array); what is wrong with
   * an entry is recorded (see problems()) and returned. `file` is the module's file, which
   * worker processes load (defaults to `pkg` when that is an absolute path).
   */
  addModule(pkg: string, mod: unknown, file: string | undefined = isAbsolute(pkg) ? pkg : undefined): { added: number; problems: string[] } {
    const stages = (mod as { stages?: unknown } | null)?.stages;
    const problems: string[] = [];
    let added = 0;
    if (!Array.isArray(stages)) problems.push(`${pkg}: exports no 'stages' array`);
    else {
      stages.forEach((s: unknown, i) => {
        const bad = stageDefProblem(s);
        const id = (s as { id?: unknown } | null)?.id;
        if (bad) return problems.push(`${pkg}: stages[${i}]${typeof id === 'string' ? ` (${id})` : ''}: ${bad}`);
        const clash = this.add(s as AnyStageDef, pkg, file);
        if (clash) problems.push(clash);
        else added++;
      });
    }
    if (file) this.loaded.set(file, problems);
    this.issues.push(...problems.filter((p) => !this.issues.includes(p)));
    return { added, problems };
  }

  /**
   * Loads a stage module (a path, relative to `from`, or a package name resolved from `from`)
   * and registers its stages; loading the same file again changes nothing. Throws when the
   * module cannot be found or fails to load; returns what is wrong with its stages.
   */
  load(spec: string, from?: string): { file: string; problems: string[] } {
    const file = resolveStageModule(spec, from);
    const done = this.loaded.get(file);
    if (done) return { file, problems: done };
    // A stage module is named at run time (built-in list, plugins:, LTH_STAGE_MODULES).
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { problems } = this.addModule(isAbsolute(spec) || spec.startsWith('.') ? (packageNameOf(file) ?? file) : spec, require(file) as unknown, file);
    return { file, problems };
  }

  /** The module files registered so far, in order: what a worker process must load. */
  modules(): string[] {
    return [...this.loaded.keys()];
  }

  get(id: string): RegisteredStage | undefined {
    return this.byId.get(id);
  }
  ids(): string[] {
    return [...this.byId.keys()].sort();
  }
  all(): RegisteredStage[] {
    return this.ids().map((id) => this.byId.get(id) as RegisteredStage);
  }
  problems(): string[] {
    return [...this.issues];
  }
  noteProblem(p: string): void {
    this.issues.push(p);
  }
}

/**
 * A registry of the given stage modules (npm package names or paths; by default those of
 * LTH_STAGE_MODULES). A module that cannot be loaded is reported by `problems()` and never
 * stops the others from registering. The CLI passes its built-in stage packages plus
 * LTH_STAGE_MODULES; worker processes load exactly `registry.modules()` of the coordinator.
 */
export function loadRegistry(opts: { modules?: readonly string[]; from?: string } = {}): Registry {
  const reg = new Registry();
  for (const m of opts.modules ?? extraStageModules()) {
    try {
      reg.load(m, opts.from);
    } catch (err) {
      reg.noteProblem(`${m}: cannot load stage module: ${(err as Error).message.split('\n')[0]}`);
    }
  }
  return reg;
}

/** A stage's config schema as JSON Schema (what the `with` block accepts), for `lth stages`. */
export function configJsonSchema(def: AnyStageDef): unknown {
  try {
    return z.toJSONSchema(def.config, { unrepresentable: 'any', io: 'input' });
  } catch (err) {
    return { note: `not representable as JSON Schema: ${(err as Error).message}` };
  }
}
