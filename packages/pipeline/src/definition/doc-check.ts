import { isAlias, isMap, isPair, isScalar, isSeq, type Document, type LineCounter, type Node } from 'yaml';
import { pathText, type Diagnostic } from './errors';
import { LIMITS, limitText } from './limits';

type Path = Array<string | number>;

/** Expanded size (nodes) and height (nesting levels) of a node, its aliases expanded. */
interface Extent {
  nodes: number;
  height: number;
}

/**
 * Checks a parsed YAML document in one linear pass, before anything converts or expands it:
 * - duplicate mapping keys (done here with a Set per mapping: the yaml library's own check,
 *   `uniqueKeys`, compares each key with every earlier one, which made a 1 MB file of keys
 *   take a minute to parse);
 * - aliases: at most LIMITS.aliases, each after its anchor, none inside the node it names (a
 *   cycle would make every later recursive step loop), and the document with every alias
 *   expanded at most LIMITS.documentNodes nodes and LIMITS.depth levels deep.
 * A limit error stops the walk (its cost is what is being bounded); each is located at the
 * node that crossed the limit.
 */
export function checkDocument(doc: Document, lines: LineCounter, file: string): Diagnostic[] {
  const errors: Diagnostic[] = [];
  const anchors = new Map<string, Node>();
  const extents = new Map<Node, Extent>();
  const open = new Set<Node>();
  const path: Path = [];
  let aliases = 0;
  let nodes = 0;
  let stopped = false;

  const report = (offset: number, message: string, fatal: boolean): null => {
    const p = lines.linePos(offset);
    errors.push({ file, line: p.line, col: p.col, path: pathText(path), message });
    if (fatal) stopped = true;
    return null;
  };

  const walk = (node: unknown, depth: number): Extent | null => {
    if (stopped || node === null || node === undefined) return stopped ? null : { nodes: 0, height: 0 };
    const at = (node as Node).range?.[0] ?? 0;
    if (isAlias(node)) {
      if (++aliases > LIMITS.aliases)
        return report(at, `too many aliases (*${node.source} is alias number ${aliases}); ${limitText('aliases', 'aliases per file')}`, true);
      const target = anchors.get(node.source);
      if (!target) return report(at, `alias *${node.source} has no anchor &${node.source} before it`, true);
      if (open.has(target)) return report(at, `alias *${node.source} is inside the node &${node.source} it names (a cycle)`, true);
      const ext = extents.get(target) as Extent;
      nodes += ext.nodes;
      if (nodes > LIMITS.documentNodes)
        return report(
          at,
          `the document with its aliases expanded passes ${LIMITS.documentNodes} nodes at *${node.source}; ${limitText('documentNodes', 'nodes')}`,
          true,
        );
      if (depth - 1 + ext.height > LIMITS.depth)
        return report(at, `alias *${node.source} nests ${depth - 1 + ext.height} levels deep; ${limitText('depth', 'levels')}`, true);
      return ext;
    }
    if (++nodes > LIMITS.documentNodes) return report(at, `the document passes ${LIMITS.documentNodes} nodes; ${limitText('documentNodes', 'nodes')}`, true);
    const anchor = (node as Node).anchor;
    if (anchor) anchors.set(anchor, node as Node);
    let ext: Extent = { nodes: 1, height: 0 };
    if (isMap(node) || isSeq(node)) {
      if (depth > LIMITS.depth) return report(at, `nesting is deeper than ${LIMITS.depth} levels; ${limitText('depth', 'levels')}`, true);
      open.add(node);
      const keys = isMap(node) ? new Map<unknown, number>() : undefined;
      let height = 0;
      let sum = 1;
      node.items.forEach((item: unknown, i: number) => {
        if (stopped) return;
        const children: unknown[] = [];
        if (isPair(item)) {
          const key = item.key;
          path.push(isScalar(key) ? String(key.value) : i);
          if (keys && isScalar(key) && key.range) {
            const first = keys.get(key.value);
            if (first !== undefined)
              report(key.range[0], `duplicate key '${String(key.value)}' (first at line ${lines.linePos(first).line}); mapping keys must be unique`, false);
            else keys.set(key.value, key.range[0]);
          }
          children.push(key, item.value);
        } else {
          path.push(i);
          children.push(item);
        }
        for (const child of children) {
          const e = walk(child, depth + 1);
          if (!e) break;
          sum += e.nodes;
          height = Math.max(height, e.height);
        }
        path.pop();
      });
      open.delete(node);
      if (stopped) return null;
      ext = { nodes: sum, height: height + 1 };
    }
    if (anchor) extents.set(node as Node, ext);
    return ext;
  };
  walk(doc.contents, 1);
  return errors;
}

/** Where each node of a document starts: document path → offsets of its value and its key. */
export type PositionIndex = Map<string, { value?: number; key?: number }>;

/** The lookup key of a document path (segments as text, so a map key `0` and index 0 agree). */
export function pathKey(path: ReadonlyArray<string | number>): string {
  return path.map(String).join('\u0000');
}

/**
 * Indexes every node's position by its path in one pass, so that locating N diagnostics costs
 * O(N * depth) rather than a scan of each parent mapping per diagnostic. Aliases are not
 * followed (an error under one is reported at the alias). Stops at LIMITS.depth levels.
 */
export function positionIndex(doc: Document): PositionIndex {
  const index: PositionIndex = new Map();
  const visit = (node: unknown, key: string, depth: number): void => {
    if (!node || typeof node !== 'object') return;
    const range = (node as Node).range;
    if (range) {
      const entry = index.get(key);
      if (!entry) index.set(key, { value: range[0] });
      else entry.value ??= range[0];
    }
    if (depth > LIMITS.depth || !(isMap(node) || isSeq(node))) return;
    const prefix = key === '' && depth === 1 ? '' : `${key}\u0000`;
    node.items.forEach((item: unknown, i: number) => {
      if (isPair(item)) {
        const k = item.key;
        const child = prefix + (isScalar(k) ? String(k.value) : String(i));
        const kr = isScalar(k) || isAlias(k) || isMap(k) || isSeq(k) ? (k as Node).range : undefined;
        // The first occurrence wins (a duplicate key is an error anyway).
        if (!index.has(child)) index.set(child, kr ? { key: kr[0] } : {});
        visit(item.value, child, depth + 1);
      } else visit(item, prefix + String(i), depth + 1);
    });
  };
  visit(doc.contents, '', 1);
  return index;
}
