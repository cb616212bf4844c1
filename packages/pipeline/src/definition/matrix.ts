import { canonicalJson } from '@lth/artifacts';
import type { Diagnostic } from './errors';
import { paramVars } from './interpolate';
import { LIMITS } from './limits';
import type { PlanNode } from './nodes';
import type { InputBinding } from './refs';
import type { Source } from './source';
import type { PipelineDoc } from './spec';

/**
 * A pipeline `matrix:` runs the same stages for several values of some params, e.g. three
 * seeds, or seeds x learning rates, in one plan:
 *
 *   matrix: { seed: [0, 1, 2] }
 *   stages:
 *     ...                       # every stage is expanded once per seed
 *     report: { uses: report/lottery, over: [seed], ... }   # one report gathering all seeds
 *
 * Each combination is expanded like a pipeline of its own (`params.seed` = that value). A stage
 * then gets an id prefix naming only the axes it actually depends on (`seed=1/init`,
 * `seed=1/round[3].train`): a stage that comes out identical for every seed (same stage, config
 * and inputs, such as the dataset) is one stage, so the plan computes it once (the cache key
 * would share it anyway). A stage with `over: [axes]` is one stage per combination of the other
 * axes, and each of its inputs gathers the references of every variant in matrix order (first
 * axis slowest: for `over: [seed]` with seed first, every round of seed 0, then of seed 1, the
 * report's 'seed-major' order).
 */
export interface MatrixAxis {
  name: string;
  values: unknown[];
}

export type Combo = Record<string, unknown>;

/** The interpolation variables of one variant, and those of a stage collecting over axes. */
export interface VariantVars {
  vars: Record<string, unknown>;
  overVars?: (axes: string[]) => Record<string, unknown>;
}

/**
 * The matrix axes, checked: each names a param; a `--set params.X=v` on an axis fixes it to
 * [v] (run one seed of a multi-seed pipeline) and `--set params.X=[a,b]` to those values;
 * values are unique.
 */
export function matrixAxes(doc: PipelineDoc, params: Record<string, unknown>, sets: readonly string[], src: Source, errors: Diagnostic[]): MatrixAxis[] {
  if (!doc.matrix) return [];
  const axes: MatrixAxis[] = [];
  const setNames = new Set(
    sets.map((s) =>
      s
        .slice(0, Math.max(0, s.indexOf('=')))
        .trim()
        .replace(/^params\./, ''),
    ),
  );
  let combos = 1;
  for (const [name, values] of Object.entries(doc.matrix)) {
    if (!Object.prototype.hasOwnProperty.call(doc.params, name)) {
      errors.push(
        src.diag(['matrix', name], `'${name}' is not a param; a matrix axis varies a param (params: ${Object.keys(doc.params).join(', ') || '(none)'})`, true),
      );
      continue;
    }
    const seen = new Set<string>();
    values.forEach((v, i) => {
      const k = canonicalJson(v);
      if (seen.has(k)) errors.push(src.diag(['matrix', name, i], `value ${k} appears twice in matrix.${name}`));
      seen.add(k);
    });
    // `--set params.seed=3` runs seed 3 alone; `--set params.seed=[0,1,2]` sets the axis's values.
    const given = params[name];
    const fixed = setNames.has(name) ? (Array.isArray(given) ? given : [given]) : values;
    if (fixed.length === 0) {
      errors.push({ file: '(command line)', line: 1, col: 1, path: `--set params.${name}`, message: `matrix axis '${name}' needs at least one value` });
      continue;
    }
    combos *= fixed.length;
    axes.push({ name, values: fixed });
  }
  if (combos > LIMITS.matrixCombinations) {
    errors.push(src.diag(['matrix'], `the matrix has ${combos} combinations; at most ${LIMITS.matrixCombinations} are allowed in one pipeline`, true));
    return [];
  }
  return axes;
}

/** Every combination, first axis slowest. */
export function matrixCombos(axes: readonly MatrixAxis[]): Combo[] {
  let out: Combo[] = [{}];
  for (const a of axes) out = out.flatMap((c) => a.values.map((v) => ({ ...c, [a.name]: v })));
  return out;
}

export function variantVars(doc: PipelineDoc, params: Record<string, unknown>, axes: readonly MatrixAxis[], combo: Combo): VariantVars {
  return {
    vars: paramVars({ ...params, ...combo }, doc.name),
    overVars: (over) => {
      const lists = Object.fromEntries(axes.filter((a) => over.includes(a.name)).map((a) => [a.name, a.values]));
      const runs = axes.filter((a) => over.includes(a.name)).reduce((n, a) => n * a.values.length, 1);
      const vars = paramVars({ ...params, ...combo, ...lists }, doc.name);
      vars['matrix.runs'] = runs;
      for (const [k, v] of Object.entries(lists)) vars[`matrix.${k}`] = v;
      return vars;
    },
  };
}

const prefix = (combo: Combo, axes: readonly string[]) => (axes.length ? `${axes.map((a) => `${a}=${String(combo[a])}`).join(',')}/` : '');

function bindingsOf(b: InputBinding | InputBinding[]): InputBinding[] {
  return Array.isArray(b) ? b : [b];
}

/**
 * Merges the variants' nodes into one plan: deduplicates stages identical across an axis,
 * prefixes the others with the axes they depend on, and gathers `over` stages.
 */
export function mergeVariants(
  doc: PipelineDoc,
  src: Source,
  axes: readonly MatrixAxis[],
  variants: { combo: Combo; nodes: PlanNode[] }[],
  errors: Diagnostic[],
): PlanNode[] {
  const names = axes.map((a) => a.name);
  for (const v of variants) {
    for (const n of v.nodes) {
      for (const a of n.over ?? []) {
        if (!names.includes(a)) errors.push(src.diag(['stages', n.id, 'over'], `'${a}' is not a matrix axis; axes: ${names.join(', ')}`));
      }
    }
  }
  if (errors.length) return [];
  // Per variant: base id -> merged id.
  const maps = variants.map(() => new Map<string, string>());
  const byBase = new Map<string, { variant: number; node: PlanNode }[]>();
  for (const [i, v] of variants.entries()) for (const n of v.nodes) byBase.set(n.id, [...(byBase.get(n.id) ?? []), { variant: i, node: n }]);
  const order = baseOrder(variants.map((v) => v.nodes));
  const merged = new Map<string, PlanNode>();
  const remap = (variant: number, b: InputBinding): InputBinding => ({ stage: maps[variant]?.get(b.stage) ?? b.stage, port: b.port });

  for (const base of order) {
    const copies = byBase.get(base) ?? [];
    const over = copies[0]?.node.over;
    if (over) {
      // One node per combination of the other axes, gathering every variant's inputs.
      const keep = names.filter((a) => !over.includes(a));
      const groups = new Map<string, typeof copies>();
      for (const c of copies) {
        const id = `${prefix((variants[c.variant] as { combo: Combo }).combo, keep)}${base}`;
        groups.set(id, [...(groups.get(id) ?? []), c]);
        maps[c.variant]?.set(base, id);
      }
      for (const [id, group] of groups) {
        const first = (group[0] as (typeof group)[number]).node;
        const inputs: PlanNode['inputs'] = {};
        for (const port of Object.keys(first.inputs)) {
          const gathered = group.flatMap((c) => bindingsOf(c.node.inputs[port] ?? []).map((b) => remap(c.variant, b)));
          if (first.def.inputs[port]?.many) inputs[port] = gathered;
          else {
            const distinct = new Set(gathered.map((b) => `${b.stage}.${b.port}`));
            if (distinct.size > 1) {
              errors.push(
                src.diag(
                  ['stages', base, 'inputs', port],
                  `input '${port}' of ${first.uses} takes one artifact, but its reference differs across ${over.join(', ')} (${[...distinct].slice(0, 3).join(', ')}, ...): only list ports gather across the matrix`,
                ),
              );
              continue;
            }
            inputs[port] = gathered[0] as InputBinding;
          }
        }
        merged.set(id, { ...first, id, inputs, deps: depsOf(inputs) });
      }
      continue;
    }
    // Which axes does this stage depend on? Those where two variants differing in that axis
    // only give different stages (same stage id, config and inputs otherwise).
    const sig = new Map<number, string>();
    for (const c of copies) {
      const inputs = Object.fromEntries(Object.entries(c.node.inputs).map(([p, b]) => [p, bindingsOf(b).map((x) => remap(c.variant, x))]));
      sig.set(c.variant, canonicalJson({ uses: c.node.uses, config: c.node.config ?? null, inputs }));
    }
    let depends = names.filter((a) =>
      copies.some((c) =>
        copies.some((d) => sig.get(c.variant) !== sig.get(d.variant) && differsOnlyIn(variants[c.variant]?.combo, variants[d.variant]?.combo, a, names)),
      ),
    );
    const idOf = (variant: number) => `${prefix((variants[variant] as { combo: Combo }).combo, depends)}${base}`;
    // With a full cartesian product the axes found determine the stage; if the variants differ
    // in structure (a foreach range taken from a matrixed param), fall back to every axis.
    const sigOfId = new Map<string, string>();
    let consistent = true;
    for (const c of copies) {
      const id = idOf(c.variant);
      const s = sig.get(c.variant) as string;
      if (sigOfId.has(id) && sigOfId.get(id) !== s) consistent = false;
      sigOfId.set(id, s);
    }
    if (!consistent) depends = names;
    for (const c of copies) {
      const id = idOf(c.variant);
      maps[c.variant]?.set(base, id);
      if (merged.has(id)) continue;
      const inputs: PlanNode['inputs'] = {};
      for (const [p, b] of Object.entries(c.node.inputs)) inputs[p] = Array.isArray(b) ? b.map((x) => remap(c.variant, x)) : remap(c.variant, b);
      merged.set(id, { ...c.node, id, inputs, deps: depsOf(inputs) });
    }
  }
  return [...merged.values()];
}

function differsOnlyIn(a: Combo | undefined, b: Combo | undefined, axis: string, names: readonly string[]): boolean {
  if (!a || !b) return false;
  return names.every((n) => (n === axis ? canonicalJson(a[n]) !== canonicalJson(b[n]) : canonicalJson(a[n]) === canonicalJson(b[n])));
}

function depsOf(inputs: PlanNode['inputs']): string[] {
  return [...new Set(Object.values(inputs).flatMap((b) => bindingsOf(b).map((x) => x.stage)))];
}

/** Base ids in an order where every stage comes after its inputs in every variant. */
function baseOrder(variants: PlanNode[][]): string[] {
  const deps = new Map<string, Set<string>>();
  for (const nodes of variants) for (const n of nodes) deps.set(n.id, new Set([...(deps.get(n.id) ?? []), ...n.deps]));
  const out: string[] = [];
  const done = new Set<string>();
  const visiting = new Set<string>();
  const visit = (id: string) => {
    if (done.has(id) || visiting.has(id)) return;
    visiting.add(id);
    for (const d of deps.get(id) ?? []) visit(d);
    visiting.delete(id);
    done.add(id);
    out.push(id);
  };
  for (const id of deps.keys()) visit(id);
  return out;
}
