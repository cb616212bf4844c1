import type { AnyStageDef } from '@lth/artifacts';
import { listText } from './errors';

/** An input bound to one output port of one expanded stage. */
export interface InputBinding {
  stage: string;
  port: string;
}

/** What reference resolution needs to know about the expanded pipeline. */
export interface RefScope {
  /** Top-level (non-group) stage names. */
  stages: Set<string>;
  groups: Map<string, { from: number; to: number; members: Set<string>; init: Record<string, string> }>;
  /** The uses-definition of an expanded stage id (undefined when its `uses` is unknown). */
  defOf(id: string): AnyStageDef | undefined | null;
}

/** Where the referencing stage sits: top level, or round `round` of `group`. */
export interface RefSite {
  group?: string;
  round?: number;
  inputPort: string;
}

const REF_RE = /^([A-Za-z_][A-Za-z0-9_-]*)(?:\[(\d+|\*)\])?(?:\.([A-Za-z_][A-Za-z0-9_-]*))?(?:\.([A-Za-z_][A-Za-z0-9_-]*))?$/;

export type RefResult = { bindings: InputBinding[] } | { omit: true } | { error: string };

/**
 * Resolves one reference string. `${prev}` means the previous round of the referencing
 * stage's group; in the first round it means the group's `foreach.init` entry for the
 * member, and a member missing from `init` leaves the input unbound (`omit`).
 */
export function resolveRef(ref: string, site: RefSite, scope: RefScope): RefResult {
  let text = ref.trim();
  if (text.includes('${prev}')) {
    if (site.group === undefined || site.round === undefined) return { error: `'\${prev}' is only valid inside a foreach group` };
    const g = scope.groups.get(site.group);
    if (!g) return { error: `unknown group '${site.group}'` };
    if (site.round > g.from) {
      text = text.split('${prev}').join(`${site.group}[${site.round - 1}]`);
    } else {
      const m = /^\$\{prev\}\.([A-Za-z_][A-Za-z0-9_-]*)(?:\.([A-Za-z_][A-Za-z0-9_-]*))?$/.exec(text);
      if (!m) return { error: `'${ref}': expected '\${prev}.MEMBER' or '\${prev}.MEMBER.PORT'` };
      const member = m[1] as string;
      if (!g.members.has(member))
        return { error: `'${ref}': '${member}' is not a stage of group '${site.group}'; valid: ${listText(g.members, g.members.size)}` };
      const init = g.init[member];
      if (init === undefined) return { omit: true };
      if (m[2] !== undefined && init.includes('.')) {
        return { error: `'${ref}': foreach.init.${member} is '${init}' which already names a port` };
      }
      text = m[2] !== undefined ? `${init}.${m[2]}` : init;
      // init entries are top-level references, resolved as from the top level
      return resolveRef(text, { inputPort: site.inputPort }, scope);
    }
  }
  const m = REF_RE.exec(text);
  if (!m) return { error: `'${ref}' is not a reference; expected STAGE, STAGE.PORT, GROUP[N].STAGE[.PORT] or GROUP[*].STAGE[.PORT]` };
  const [, name, index, second, third] = m as unknown as [string, string, string | undefined, string | undefined, string | undefined];
  let ids: string[];
  let port: string | undefined;
  if (index !== undefined) {
    const g = scope.groups.get(name);
    if (!g) return { error: `'${name}' is not a foreach group; groups: ${listText(scope.groups.keys(), scope.groups.size) || '(none)'}` };
    if (second === undefined || !g.members.has(second)) {
      return { error: `'${ref}': name a stage of group '${name}'; valid: ${listText(g.members, g.members.size)}` };
    }
    port = third;
    if (index === '*') {
      ids = [];
      for (let r = g.from; r <= g.to; r++) ids.push(`${name}[${r}].${second}`);
    } else {
      const r = Number(index);
      if (r < g.from || r > g.to) return { error: `'${ref}': round ${r} is outside ${name}[${g.from}..${g.to}]` };
      ids = [`${name}[${r}].${second}`];
    }
  } else {
    if (third !== undefined) return { error: `'${ref}' has too many parts; expected STAGE or STAGE.PORT` };
    const g = site.group !== undefined ? scope.groups.get(site.group) : undefined;
    if (g && g.members.has(name)) ids = [`${site.group}[${site.round}].${name}`];
    else if (scope.stages.has(name)) ids = [name];
    else if (scope.groups.has(name)) return { error: `'${name}' is a foreach group: use ${name}[N].STAGE or ${name}[*].STAGE` };
    else {
      const members = g ? g.members : new Set<string>();
      const valid = (function* () {
        yield* members;
        yield* scope.stages;
        for (const k of scope.groups.keys()) yield `${k}[N].STAGE`;
      })();
      return { error: `unknown stage '${name}'; valid: ${listText(valid, members.size + scope.stages.size + scope.groups.size) || '(none)'}` };
    }
    port = second;
  }
  const bindings: InputBinding[] = [];
  for (const id of ids) {
    const def = scope.defOf(id);
    if (!def) {
      // The producer's own `uses` is invalid (reported there); bind by name so other checks continue.
      bindings.push({ stage: id, port: port ?? site.inputPort });
      continue;
    }
    const outs = Object.keys(def.outputs);
    if (port !== undefined) {
      if (!outs.includes(port)) return { error: `stage '${id}' (${def.id}) has no output '${port}'; valid: ${outs.join(', ') || '(none)'}` };
      bindings.push({ stage: id, port });
    } else if (outs.length === 1) bindings.push({ stage: id, port: outs[0] as string });
    else if (outs.includes(site.inputPort)) bindings.push({ stage: id, port: site.inputPort });
    else return { error: `stage '${id}' (${def.id}) has several outputs (${outs.join(', ')}): name one, e.g. '${text}.${outs[0]}'` };
  }
  return { bindings };
}
