import { isAbsolute, resolve, delimiter } from 'node:path';
import { z } from 'zod';
import type { AnyStageDef } from '@lth/artifacts';

/** A stage known to the engine, with the package whose code fingerprints it. */
export interface RegisteredStage {
  def: AnyStageDef;
  /** npm package name (`@lth/trainer`) or module path; its code is hashed into cache keys. */
  package: string;
}

/**
 * The stage packages of the workspace. Each is required lazily and tolerantly: a package
 * that does not (yet) export `stages`, or fails to load, is reported by `problems()` but
 * never stops the others from registering.
 */
const BUILTIN: Array<[string, () => unknown]> = [
  ['@lth/data', () => require('@lth/data')],
  ['@lth/models', () => require('@lth/models')],
  ['@lth/trainer', () => require('@lth/trainer')],
  ['@lth/pruner', () => require('@lth/pruner')],
  ['@lth/rewinder', () => require('@lth/rewinder')],
  ['@lth/report', () => require('@lth/report')],
  ['@lth/analysis', () => require('@lth/analysis')],
];

/** Extra stage modules (paths or package names) from LTH_STAGE_MODULES, `:`-separated. */
export function extraStageModules(env: NodeJS.ProcessEnv = process.env): string[] {
  return (env['LTH_STAGE_MODULES'] ?? '')
    .split(delimiter)
    .map((s) => s.trim())
    .filter(Boolean)
    .map((s) => (s.startsWith('.') || isAbsolute(s) ? resolve(s) : s));
}

export class Registry {
  private readonly byId = new Map<string, RegisteredStage>();
  private readonly issues: string[] = [];

  constructor(entries: RegisteredStage[] = []) {
    for (const e of entries) this.add(e.def, e.package);
  }

  add(def: AnyStageDef, pkg: string): void {
    const prev = this.byId.get(def.id);
    if (prev && prev.def !== def) {
      this.issues.push(`stage id '${def.id}' is exported by both ${prev.package} and ${pkg}; keeping ${prev.package}`);
      return;
    }
    this.byId.set(def.id, { def, package: pkg });
  }

  /** Registers every stage of a module's `stages` export (if it is an array). */
  addModule(pkg: string, mod: unknown): number {
    const stages = (mod as { stages?: unknown } | null)?.stages;
    if (!Array.isArray(stages)) return 0;
    let n = 0;
    for (const s of stages) {
      if (s && typeof s === 'object' && typeof (s as AnyStageDef).id === 'string' && typeof (s as AnyStageDef).run === 'function') {
        this.add(s as AnyStageDef, pkg);
        n++;
      } else this.issues.push(`${pkg}: an entry of 'stages' is not a stage definition`);
    }
    return n;
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

let cached: Registry | undefined;

/**
 * The registry of every built-in stage package plus LTH_STAGE_MODULES. Built once per
 * process; worker processes build the same one from the same environment.
 */
export function loadRegistry(opts: { builtin?: boolean; modules?: string[] } = {}): Registry {
  // LTH_BUILTIN_STAGES=0 registers only LTH_STAGE_MODULES (isolated tests, plugin development).
  const builtin = opts.builtin ?? process.env['LTH_BUILTIN_STAGES'] !== '0';
  const useCache = opts.builtin === undefined && opts.modules === undefined;
  if (useCache && cached) return cached;
  const reg = new Registry();
  if (builtin) {
    for (const [pkg, load] of BUILTIN) {
      try {
        reg.addModule(pkg, load());
      } catch (err) {
        reg.noteProblem(`${pkg}: cannot load: ${(err as Error).message.split('\n')[0]}`);
      }
    }
  }
  for (const m of opts.modules ?? extraStageModules()) {
    try {
      reg.addModule(m, require(m));
    } catch (err) {
      reg.noteProblem(`${m}: cannot load stage module: ${(err as Error).message.split('\n')[0]}`);
    }
  }
  if (useCache) cached = reg;
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
