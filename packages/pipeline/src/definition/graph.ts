import type { InputBinding, Plan } from './plan';

function bindings(b: InputBinding | InputBinding[]): InputBinding[] {
  return Array.isArray(b) ? b : [b];
}

/** The expanded DAG as text: each stage with its stage id and where each input comes from. */
export function graphText(plan: Plan): string {
  const lines = [`pipeline ${plan.name} (${plan.nodes.length} stages)`];
  for (const n of plan.nodes) {
    lines.push(`${n.id}  [${n.uses}]`);
    for (const [port, b] of Object.entries(n.inputs)) {
      const list = bindings(b);
      lines.push(`  ${port} <- ${list.length ? list.map((x) => `${x.stage}.${x.port}`).join(', ') : '(none)'}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

/** Graphviz DOT: one node per expanded stage, one edge per bound input (labelled port). */
export function graphDot(plan: Plan): string {
  const q = (s: string) => JSON.stringify(s);
  const lines = [`digraph ${q(plan.name)} {`, '  rankdir=LR;', '  node [shape=box, fontname="Helvetica"];'];
  for (const n of plan.nodes) lines.push(`  ${q(n.id)} [label=${q(`${n.id}\n${n.uses}`)}];`);
  for (const n of plan.nodes) {
    for (const [port, b] of Object.entries(n.inputs)) {
      for (const x of bindings(b)) lines.push(`  ${q(x.stage)} -> ${q(n.id)} [label=${q(x.port === port ? port : `${x.port}→${port}`)}];`);
    }
  }
  lines.push('}');
  return `${lines.join('\n')}\n`;
}
