import { listText, PipelineError, type Diagnostic } from './errors';
import { applySets, interpolate, paramVars } from './interpolate';
import { parseRange } from './foreach';
import { tooManyBindings, tooManyStages } from './limits';
import { topoOrder } from './order';
import { resolveRef, type InputBinding, type RefScope } from './refs';
import { loadPlugins } from './plugins';
import type { Plan, PlanNode } from './nodes';
import type { Registry, RegisteredStage } from './registry';
import { Source } from './source';
import { matrixAxes, matrixCombos, mergeVariants, variantVars, type VariantVars } from './matrix';
import { GroupSpec, isGroup, PipelineDoc, StageSpec } from './spec';
import { zodDiagnostics } from './zod-diags';

export type { InputBinding } from './refs';
export type { Plan, PlanNode } from './nodes';

export interface LoadOptions {
  registry: Registry;
  /** `params.x=value` overrides. */
  sets?: readonly string[];
}

interface RawNode {
  id: string;
  spec: StageSpec;
  srcPath: Array<string | number>;
  group?: string;
  round?: number;
}

/** Reads, expands and validates a pipeline file. Throws PipelineError listing every problem. */
export function loadPipeline(file: string, opts: LoadOptions): Plan {
  return planFromSource(Source.read(file), opts);
}

export function planFromText(file: string, text: string, opts: LoadOptions): Plan {
  return planFromSource(Source.parse(file, text), opts);
}

function planFromSource(src: Source, opts: LoadOptions): Plan {
  const errors: Diagnostic[] = [...src.parseErrors];
  // After the first few, YAML syntax errors are mostly echoes of the first one.
  if (errors.length) throw new PipelineError(errors.slice(0, 5));
  const parsed = PipelineDoc.safeParse(src.value() ?? {});
  if (!parsed.success) throw new PipelineError(zodDiagnostics(src, [], parsed.error));
  const doc = parsed.data;
  // Plugins first: the stages below may use theirs. One that cannot load stops here (exit 2).
  const pluginErrors = loadPlugins(doc.plugins ?? [], src, opts.registry);
  if (pluginErrors.length) throw new PipelineError(pluginErrors);
  const params = applySets(doc.params, opts.sets ?? [], errors);
  const before = errors.length;
  const matrix = matrixAxes(doc, params, opts.sets ?? [], src, errors);
  // A broken matrix would make every stage's error read as if there were none.
  if (errors.length > before) throw new PipelineError(errors);
  const seen = new Set<string>();
  // Stages and bindings over all variants: the limits bound the whole plan, not one variant.
  const counts = { stages: 0, bindings: 0 };
  let nodes: PlanNode[];
  if (matrix.length === 0) {
    nodes = expandVariant(doc, src, opts, { vars: paramVars(params, doc.name) }, errors, seen, counts);
  } else {
    const variants = matrixCombos(matrix).map((combo) => {
      const variant = { combo, nodes: expandVariant(doc, src, opts, variantVars(doc, params, matrix, combo), errors, seen, counts) };
      counts.stages += variant.nodes.length;
      return variant;
    });
    nodes = errors.length ? [] : mergeVariants(doc, src, matrix, variants, errors);
  }
  if (errors.length === 0) {
    const order = topoOrder(nodes);
    if ('cycle' in order) {
      errors.push(src.diag(['stages'], `cycle: ${order.cycle.join(' -> ')} (each stage takes an input from the next)`));
    } else
      return {
        name: doc.name,
        file: src.file,
        params,
        ...(matrix.length ? { matrix: Object.fromEntries(matrix.map((a) => [a.name, a.values])) } : {}),
        nodes: order.nodes,
      };
  }
  // In file order, command-line problems first; one message per place (variants repeat them).
  const rank = (d: Diagnostic) => (d.file === src.file ? 1 : 0);
  const unique = [...new Map(errors.map((d) => [`${d.file}:${d.line}:${d.col}:${d.message}`, d])).values()];
  throw new PipelineError(unique.sort((a, b) => rank(a) - rank(b) || a.line - b.line || a.col - b.col));
}

/**
 * Expands and validates the stages of the document for one set of interpolation variables
 * (the params, or one combination of the matrix). Problems go to `errors`.
 */
function expandVariant(
  doc: PipelineDoc,
  src: Source,
  opts: LoadOptions,
  variables: VariantVars,
  errors: Diagnostic[],
  seen: Set<string>,
  counts: { stages: number; bindings: number },
): PlanNode[] {
  const { vars } = variables;
  const raws: RawNode[] = [];
  const scope: RefScope = { stages: new Set(), groups: new Map(), defOf: () => undefined };
  for (const [name, entry] of Object.entries(doc.stages)) {
    const base = ['stages', name];
    if (isGroup(entry)) {
      const g = GroupSpec.safeParse(entry);
      if (!g.success) {
        errors.push(...zodDiagnostics(src, base, g.error));
        continue;
      }
      const loop = Object.keys(g.data.foreach).filter((k) => k !== 'init');
      if (loop.length !== 1) {
        errors.push(
          src.diag([...base, 'foreach'], `foreach needs exactly one loop variable (e.g. r: "1..3"), found ${loop.length ? loop.join(', ') : 'none'}`),
        );
        continue;
      }
      const v = loop[0] as string;
      const range = parseRange(interpolate(g.data.foreach[v], vars, src, [...base, 'foreach', v], errors));
      if (typeof range === 'string') {
        errors.push(src.diag([...base, 'foreach', v], range));
        continue;
      }
      const init = (interpolate(g.data.foreach.init ?? {}, vars, src, [...base, 'foreach', 'init'], errors) ?? {}) as Record<string, string>;
      const members = new Set(Object.keys(g.data.stages));
      for (const k of Object.keys(init)) {
        if (!members.has(k))
          errors.push(src.diag([...base, 'foreach', 'init', k], `'${k}' is not a stage of group '${name}'; valid: ${listText(members, members.size)}`, true));
      }
      // Counted before anything is built: a limit error costs nothing however large the range.
      const rounds = range.to - range.from + 1;
      const over = tooManyStages(counts.stages + raws.length, rounds * members.size, `${rounds} rounds x ${members.size} stages`);
      if (over) throw new PipelineError([...errors, src.diag([...base, 'foreach', v], over)]);
      scope.groups.set(name, { from: range.from, to: range.to, members, init });
      for (let r = range.from; r <= range.to; r++) {
        for (const [member, spec] of Object.entries(g.data.stages)) {
          const srcPath = [...base, 'stages', member];
          if (spec.over !== undefined && r === range.from)
            errors.push(src.diag([...srcPath, 'over'], `'over' is for top-level stages, not members of a foreach group`));
          const spec2 = interpolate(spec, { ...vars, [v]: r }, src, srcPath, errors) as StageSpec;
          raws.push({ id: `${name}[${r}].${member}`, spec: spec2, srcPath, group: name, round: r });
        }
      }
    } else {
      const s = StageSpec.safeParse(entry);
      if (!s.success) {
        errors.push(...zodDiagnostics(src, base, s.error));
        continue;
      }
      const over = tooManyStages(counts.stages + raws.length, 1, `stage '${name}'`);
      if (over) throw new PipelineError([...errors, src.diag(base, over, true)]);
      scope.stages.add(name);
      if (s.data.over !== undefined && !variables.overVars) {
        errors.push(src.diag([...base, 'over'], `'over' collects across the matrix, and this pipeline has no 'matrix:'`));
        continue;
      }
      // A stage that collects across matrix axes sees those params as lists (its inputs are
      // resolved in each variant and gathered by mergeVariants).
      const own = s.data.over !== undefined ? (variables.overVars?.(s.data.over) ?? vars) : vars;
      const spec = {
        ...(interpolate({ ...s.data, inputs: undefined }, own, src, base, errors) as StageSpec),
        inputs: interpolate(s.data.inputs, vars, src, [...base, 'inputs'], errors) as StageSpec['inputs'],
      };
      if (spec.inputs === undefined) delete spec.inputs;
      raws.push({ id: name, spec, srcPath: base });
    }
  }

  const defs = new Map<string, RegisteredStage | null>();
  for (const raw of raws) {
    const reg = opts.registry.get(raw.spec.uses);
    if (!reg) {
      // Reported once per source stage, not once per expanded round.
      if (raw.round === undefined || raw.round === scope.groups.get(raw.group ?? '')?.from) {
        const ids = opts.registry.ids();
        errors.push(src.diag([...raw.srcPath, 'uses'], `unknown stage '${raw.spec.uses}'; registered: ${ids.join(', ') || '(none)'}`));
      }
    }
    defs.set(raw.id, reg ?? null);
  }
  scope.defOf = (id) => defs.get(id)?.def ?? null;

  const nodes: PlanNode[] = [];
  // Positions that already have an error, extended as errors come (not rebuilt per stage).
  const located = new Set<string>();
  let locatedUpTo = 0;
  for (const raw of raws) {
    const reg = defs.get(raw.id);
    const first = raw.round === undefined || raw.round === scope.groups.get(raw.group ?? '')?.from;
    // Per-round messages are reported once (at the first round) unless they concern a round only.
    const report = (d: Diagnostic) => {
      const key = `${d.line}:${d.col}:${d.message.replace(/^\([^)]*\) /, '')}`;
      if (!seen.has(key)) {
        seen.add(key);
        errors.push(d);
      }
    };
    if (!reg) continue;
    const { def } = reg;
    const cfg = def.config.safeParse(raw.spec.with ?? {});
    if (!cfg.success && first) {
      // A field whose interpolation already failed is not reported a second time by the schema.
      for (; locatedUpTo < errors.length; locatedUpTo++) located.add(`${errors[locatedUpTo]?.line}:${errors[locatedUpTo]?.col}`);
      zodDiagnostics(src, [...raw.srcPath, 'with'], cfg.error)
        .filter((d) => !located.has(`${d.line}:${d.col}`))
        .forEach(report);
    }
    const inputs: Record<string, InputBinding | InputBinding[]> = {};
    const given = raw.spec.inputs ?? {};
    const ports = Object.entries(def.inputs);
    for (const [port, ref] of Object.entries(given)) {
      const spec = def.inputs[port];
      const at = [...raw.srcPath, 'inputs', port];
      if (!spec) {
        report(
          src.diag(
            at,
            `unknown input '${port}' of ${def.id}; valid: ${ports.map(([p, s]) => `${p} (${s.kind}${s.many ? '[]' : ''})`).join(', ') || '(none)'}`,
            true,
          ),
        );
        continue;
      }
      const list = Array.isArray(ref) ? ref : [ref];
      const bound: InputBinding[] = [];
      let omitted = false;
      list.forEach((r, i) => {
        const res = resolveRef(r, { group: raw.group, round: raw.round, inputPort: port }, scope);
        const where = Array.isArray(ref) ? [...at, i] : at;
        if ('error' in res) report(src.diag(where, `${raw.round !== undefined ? `(${raw.id}) ` : ''}${res.error}`));
        else if ('omit' in res) omitted = true;
        else {
          for (const b of res.bindings) {
            const producer = defs.get(b.stage)?.def;
            const kind = producer?.outputs[b.port]?.kind;
            if (kind && kind !== spec.kind) {
              report(src.diag(where, `'${b.stage}.${b.port}' is a ${kind} artifact but input '${port}' of ${def.id} takes ${spec.kind}`));
            }
          }
          bound.push(...res.bindings);
          const over = tooManyBindings((counts.bindings += res.bindings.length));
          if (over) throw new PipelineError([...errors, src.diag(where, `(${raw.id}) ${over}`)]);
        }
      });
      if (spec.many) inputs[port] = bound;
      else if (bound.length === 1) inputs[port] = bound[0] as InputBinding;
      else if (bound.length > 1)
        report(
          src.diag(at, `input '${port}' of ${def.id} takes one ${spec.kind} artifact, the reference gives ${bound.length}; only 'many' ports collect lists`),
        );
      else if (omitted && !spec.optional) {
        report(src.diag(at, `(${raw.id}) '\${prev}' has no value in the first round and input '${port}' is required: add it to foreach.init`));
      }
    }
    for (const [port, spec] of ports) {
      if (!(port in given) && !spec.optional) {
        if (spec.many) inputs[port] = [];
        else
          report(
            src.diag(
              [...raw.srcPath, raw.spec.inputs ? 'inputs' : 'uses'],
              `missing required input '${port}' (${spec.kind}) of ${def.id}; inputs: ${ports.map(([p, s]) => `${p}${s.optional ? '?' : ''}`).join(', ')}`,
            ),
          );
      }
    }
    const deps = [
      ...new Set(
        Object.values(inputs)
          .flatMap((b) => (Array.isArray(b) ? b : [b]))
          .map((b) => b.stage),
      ),
    ];
    nodes.push({
      id: raw.id,
      uses: def.id,
      def,
      package: reg.package,
      code: reg.module ?? reg.package,
      config: cfg.success ? cfg.data : undefined,
      rawConfig: raw.spec.with ?? {},
      inputs,
      deps,
      where: `${src.file}:${src.position(raw.srcPath).line}`,
      ...(raw.spec.over ? { over: raw.spec.over } : {}),
    });
  }
  if (errors.length === 0) {
    // A cycle is reported here, where the stage's position is known.
    const order = topoOrder(nodes);
    if ('cycle' in order) {
      const raw = raws.find((r) => r.id === order.cycle[0]);
      errors.push(src.diag(raw ? [...raw.srcPath, 'inputs'] : ['stages'], `cycle: ${order.cycle.join(' -> ')} (each stage takes an input from the next)`));
    }
  }
  return nodes;
}
