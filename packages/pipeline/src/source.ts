import { readFileSync } from 'node:fs';
import { isNode, LineCounter, parseDocument, type Document } from 'yaml';
import { pathText, type Diagnostic } from './errors';

/** A parsed pipeline file that can map a document path back to `line:col`. */
export class Source {
  private constructor(
    readonly file: string,
    readonly doc: Document,
    private readonly lines: LineCounter,
    readonly parseErrors: Diagnostic[],
  ) {}

  static read(file: string): Source {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      return Source.parse(file, '', [`cannot read pipeline file: ${(err as Error).message}`]);
    }
    return Source.parse(file, text);
  }

  static parse(file: string, text: string, extra: string[] = []): Source {
    const lines = new LineCounter();
    const doc = parseDocument(text, { lineCounter: lines, keepSourceTokens: false, prettyErrors: false, uniqueKeys: true });
    const errors: Diagnostic[] = extra.map((message) => ({ file, line: 1, col: 1, path: '', message }));
    for (const e of [...doc.errors, ...doc.warnings]) {
      const pos = lines.linePos(e.pos[0]);
      errors.push({ file, line: pos.line, col: pos.col, path: '', message: `YAML: ${e.message.split('\n')[0]}` });
    }
    return new Source(file, doc, lines, errors);
  }

  /** Plain JS value of the document. */
  value(): unknown {
    return this.doc.toJS({ maxAliasCount: 1000 });
  }

  /**
   * Position of the node at `path` (its value), or of the deepest existing ancestor when
   * the path does not exist (e.g. a missing required field is reported at its parent).
   */
  position(path: ReadonlyArray<string | number>): { line: number; col: number } {
    for (let n = path.length; n >= 0; n--) {
      const node = n === 0 ? this.doc.contents : this.doc.getIn(path.slice(0, n), true);
      if (isNode(node) && node.range) {
        const p = this.lines.linePos(node.range[0]);
        return { line: p.line, col: p.col };
      }
    }
    return { line: 1, col: 1 };
  }

  /** Position of a mapping key (for unknown-key errors), falling back to its value. */
  keyPosition(path: ReadonlyArray<string | number>): { line: number; col: number } {
    const parent = path.length > 1 ? this.doc.getIn(path.slice(0, -1), true) : this.doc.contents;
    const last = path[path.length - 1];
    if (parent && typeof parent === 'object' && 'items' in parent && Array.isArray(parent.items)) {
      for (const item of parent.items as unknown[]) {
        const key = (item as { key?: unknown }).key;
        if (isNode(key) && (key as { value?: unknown }).value === last && key.range) {
          const p = this.lines.linePos(key.range[0]);
          return { line: p.line, col: p.col };
        }
      }
    }
    return this.position(path);
  }

  diag(path: ReadonlyArray<string | number>, message: string, atKey = false): Diagnostic {
    const pos = atKey ? this.keyPosition(path) : this.position(path);
    return { file: this.file, line: pos.line, col: pos.col, path: pathText(path), message };
  }
}
