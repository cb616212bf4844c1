/** A topological order (depth-first: every node after its deps); on a cycle, one cycle (first node repeated at the end). */
export function topoOrder<N extends { id: string; deps: readonly string[] }>(nodes: N[]): { nodes: N[] } | { cycle: string[] } {
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const state = new Map<string, 1 | 2>();
  const out: N[] = [];
  const stack: string[] = [];
  let cycle: string[] | undefined;
  const visit = (id: string): void => {
    if (cycle) return;
    const s = state.get(id);
    if (s === 2) return;
    if (s === 1) {
      cycle = [...stack.slice(stack.indexOf(id)), id];
      return;
    }
    const n = byId.get(id);
    if (!n) return;
    state.set(id, 1);
    stack.push(id);
    for (const d of n.deps) visit(d);
    stack.pop();
    state.set(id, 2);
    out.push(n);
  };
  for (const n of nodes) visit(n.id);
  return cycle ? { cycle } : { nodes: out };
}
