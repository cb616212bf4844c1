import { parse as parseYaml } from 'yaml';
import { listText, pathText, PipelineError, type Diagnostic } from './errors';
import { limitText } from './limits';
import type { Source } from './source';

const WHOLE = /^\$\{([^}]*)\}$/;
const ANY = /\$\{([^}]*)\}/g;

/**
 * Replaces `${params.x}` (and, inside a foreach, the loop variable) in every string of a
 * value. A string that is exactly one reference takes the referenced value with its type
 * (`seed: ${params.seed}` stays a number); otherwise the value is spliced in as text.
 * Names listed in `keep` (e.g. `prev`) are left for the expansion step.
 *
 * Everything produced is charged, at its size as JSON, to the source's expansion budget
 * (LIMITS.expandedChars): every round copies its group's stages, and a string can splice in
 * `${params}` many times, so this is where a small file could otherwise grow without bound.
 * Passing the budget throws a PipelineError located at the value that passed it.
 */
export function interpolate(
  value: unknown,
  vars: Record<string, unknown>,
  src: Source,
  path: Array<string | number>,
  errors: Diagnostic[],
  keep: ReadonlySet<string> = new Set(['prev']),
): unknown {
  if (typeof value === 'string') return interpolateString(value, vars, src, path, errors, keep);
  if (Array.isArray(value)) {
    charge(src, 2 + value.length, path, errors);
    return value.map((v, i) => interpolate(v, vars, src, [...path, i], errors, keep));
  }
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    const entries = Object.entries(value);
    charge(src, 2 + entries.length, path, errors);
    for (const [k, v] of entries) {
      charge(src, k.length + 3, path, errors);
      out[k] = interpolate(v, vars, src, [...path, k], errors, keep);
    }
    return out;
  }
  charge(src, jsonSize(value), path, errors);
  return value;
}

function charge(src: Source, n: number, path: Array<string | number>, errors: Diagnostic[]): void {
  if (src.expansion.charge(n)) return;
  const d = src.diag(path, `the expanded pipeline passes ${src.expansion.limit} characters of JSON here; ${limitText('expandedChars', 'characters')}`);
  throw new PipelineError([...errors, d]);
}

const sizes = new WeakMap<object, number>();

/** Size of a value as JSON (memoized for objects: one `${params}` may be referenced often). */
function jsonSize(v: unknown): number {
  if (v === null || typeof v !== 'object') return typeof v === 'string' ? v.length + 2 : String(v).length;
  let n = sizes.get(v);
  if (n === undefined) {
    n = JSON.stringify(v)?.length ?? 0;
    sizes.set(v, n);
  }
  return n;
}

function lookup(name: string, vars: Record<string, unknown>): { found: boolean; value?: unknown } {
  if (Object.prototype.hasOwnProperty.call(vars, name)) return { found: true, value: vars[name] };
  return { found: false };
}

/** Unknown references already reported into an errors list. */
const reportedRefs = new WeakMap<Diagnostic[], Set<string>>();
const validRefsText = new WeakMap<object, string>();

/** The valid `${...}` names, listed once per set of variables (a file may declare thousands). */
function validRefs(vars: Record<string, unknown>, keep: ReadonlySet<string>): string {
  let text = validRefsText.get(vars);
  if (text === undefined) {
    const names = Object.keys(vars);
    text =
      listText(
        names.map((v) => `\${${v}}`),
        names.length,
      ) || '(none)';
    validRefsText.set(vars, text);
  }
  return `${text}${keep.size ? `, ${[...keep].map((k) => `\${${k}}`).join(', ')}` : ''}`;
}

function interpolateString(
  s: string,
  vars: Record<string, unknown>,
  src: Source,
  path: Array<string | number>,
  errors: Diagnostic[],
  keep: ReadonlySet<string>,
): unknown {
  const resolve = (expr: string): { ok: boolean; value?: unknown } => {
    const name = expr.trim();
    if (keep.has(name)) return { ok: false };
    const r = lookup(name, vars);
    if (!r.found) {
      // Once per place and name: not once per round of a group, nor per repetition in a string.
      let seen = reportedRefs.get(errors);
      if (!seen) reportedRefs.set(errors, (seen = new Set()));
      const key = `${pathText(path)}\u0000${name}`;
      if (!seen.has(key)) {
        seen.add(key);
        errors.push(src.diag(path, `unknown reference \${${name}}; valid: ${validRefs(vars, keep)}`));
      }
      return { ok: false };
    }
    return { ok: true, value: r.value };
  };
  const whole = WHOLE.exec(s);
  if (whole) {
    const r = resolve(whole[1] ?? '');
    const out = r.ok ? r.value : s;
    charge(src, jsonSize(out), path, errors);
    return out;
  }
  charge(src, s.length + 2, path, errors);
  return s.replace(ANY, (m, expr: string) => {
    const r = resolve(expr);
    if (!r.ok) return m;
    // Charged before it is spliced in, so a string of many `${params}` stops at the limit.
    charge(src, jsonSize(r.value), path, errors);
    return typeof r.value === 'object' ? JSON.stringify(r.value) : String(r.value);
  });
}

/**
 * Interpolation variables: `params.x` for each param, `params` (all of them, for a report's
 * header) and `name` (the pipeline's name).
 */
export function paramVars(params: Record<string, unknown>, name?: string): Record<string, unknown> {
  const out: Record<string, unknown> = { params };
  if (name !== undefined) out['name'] = name;
  for (const [k, v] of Object.entries(params)) out[`params.${k}`] = v;
  return out;
}

/**
 * Applies `--set params.x=value` overrides. Values are parsed as YAML scalars (`3` is a
 * number, `true` a boolean, `[1,2]` a list). Unknown names are errors so a typo never
 * silently runs the default.
 */
export function applySets(params: Record<string, unknown>, sets: readonly string[], errors: Diagnostic[]): Record<string, unknown> {
  const out = { ...params };
  for (const s of sets) {
    const eq = s.indexOf('=');
    const diag = (message: string) => errors.push({ file: '(command line)', line: 1, col: 1, path: `--set ${s}`, message });
    if (eq < 0) {
      diag("expected 'params.NAME=VALUE'");
      continue;
    }
    const key = s.slice(0, eq).trim();
    const name = key.startsWith('params.') ? key.slice('params.'.length) : '';
    if (!name) {
      diag(`only params can be set (expected 'params.NAME=VALUE'); valid: ${listText(Object.keys(params).map((p) => `params.${p}`)) || '(no params)'}`);
      continue;
    }
    if (!Object.prototype.hasOwnProperty.call(params, name)) {
      diag(`unknown parameter '${name}'; valid: ${listText(Object.keys(params)) || '(no params)'}`);
      continue;
    }
    try {
      out[name] = parseYaml(s.slice(eq + 1));
    } catch (err) {
      diag(`value is not valid YAML: ${(err as Error).message}`);
    }
  }
  return out;
}
