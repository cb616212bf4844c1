import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { LineCounter, parseDocument, type Document } from 'yaml';
import { checkDocument, pathKey, positionIndex, type PositionIndex } from './doc-check';
import { pathText, PipelineError, type Diagnostic } from './errors';
import { ExpansionBudget, LIMITS, limitText } from './limits';

/** A parsed pipeline file that can map a document path back to `line:col`. */
export class Source {
  private index?: PositionIndex;
  /** What `${...}` interpolation of this document may still produce (LIMITS.expandedChars). */
  readonly expansion = new ExpansionBudget();

  private constructor(
    readonly file: string,
    readonly doc: Document,
    private readonly lines: LineCounter,
    readonly parseErrors: Diagnostic[],
  ) {}

  static read(file: string): Source {
    const text = readBounded(file);
    return typeof text === 'string' ? Source.parse(file, text) : Source.parse(file, '', [text.error]);
  }

  static parse(file: string, text: string, extra: string[] = []): Source {
    const bytes = Buffer.byteLength(text);
    if (bytes > LIMITS.fileBytes) return Source.parse(file, '', [...extra, tooLarge(bytes)]);
    const lines = new LineCounter();
    // uniqueKeys: false because the library's duplicate-key check is quadratic in the number of
    // keys of a mapping; checkDocument does it in linear time (with the other limits).
    const doc = parseDocument(text, { lineCounter: lines, keepSourceTokens: false, prettyErrors: false, uniqueKeys: false });
    const errors: Diagnostic[] = extra.map((message) => ({ file, line: 1, col: 1, path: '', message }));
    for (const e of [...doc.errors, ...doc.warnings]) {
      const pos = lines.linePos(e.pos[0]);
      errors.push({ file, line: pos.line, col: pos.col, path: '', message: `YAML: ${e.message.split('\n')[0]}` });
    }
    errors.push(...checkDocument(doc, lines, file));
    return new Source(file, doc, lines, errors);
  }

  /**
   * Plain JS value of the document; throws the parse errors if there are any. Only a document
   * that passed checkDocument is converted: its aliases' expansion is then bounded (and acyclic),
   * so the library's own alias heuristic is not needed.
   */
  value(): unknown {
    if (this.parseErrors.length) throw new PipelineError(this.parseErrors.slice(0, 5));
    return this.doc.toJS({ maxAliasCount: -1 });
  }

  /**
   * Position of the node at `path` (its value), or of the deepest existing ancestor when
   * the path does not exist (e.g. a missing required field is reported at its parent).
   */
  position(path: ReadonlyArray<string | number>): { line: number; col: number } {
    for (let n = path.length; n >= 0; n--) {
      const offset = this.offsets().get(pathKey(path.slice(0, n)))?.value;
      if (offset !== undefined) return this.at(offset);
    }
    return { line: 1, col: 1 };
  }

  /** Position of a mapping key (for unknown-key errors), falling back to its value. */
  keyPosition(path: ReadonlyArray<string | number>): { line: number; col: number } {
    const offset = this.offsets().get(pathKey(path))?.key;
    return offset !== undefined ? this.at(offset) : this.position(path);
  }

  private offsets(): PositionIndex {
    this.index ??= positionIndex(this.doc);
    return this.index;
  }

  private at(offset: number): { line: number; col: number } {
    const p = this.lines.linePos(offset);
    return { line: p.line, col: p.col };
  }

  diag(path: ReadonlyArray<string | number>, message: string, atKey = false): Diagnostic {
    const pos = atKey ? this.keyPosition(path) : this.position(path);
    return { file: this.file, line: pos.line, col: pos.col, path: pathText(path), message };
  }
}

function tooLarge(bytes: number | string): string {
  return `the file is ${bytes} bytes; ${limitText('fileBytes', 'bytes')}`;
}

/**
 * The file's text, read up to LIMITS.fileBytes + 1 bytes so that a huge file, a FIFO or a
 * device such as /dev/zero is refused without reading it all.
 */
function readBounded(file: string): string | { error: string } {
  let fd: number | undefined;
  try {
    fd = openSync(file, 'r');
    const st = fstatSync(fd);
    if (st.isDirectory()) return { error: 'cannot read pipeline file: it is a directory' };
    if (st.isFile() && st.size > LIMITS.fileBytes) return { error: tooLarge(st.size) };
    const buf = Buffer.alloc(LIMITS.fileBytes + 1);
    let n = 0;
    for (let got = -1; got !== 0 && n < buf.length; n += got) got = readSync(fd, buf, n, buf.length - n, null);
    if (n > LIMITS.fileBytes) return { error: tooLarge(`more than ${LIMITS.fileBytes}`) };
    return buf.toString('utf8', 0, n);
  } catch (err) {
    return { error: `cannot read pipeline file: ${(err as Error).message}` };
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
