/** One problem in a pipeline file, located at `file:line:col` and a path inside the document. */
export interface Diagnostic {
  file: string;
  line: number;
  col: number;
  /** Dotted path inside the document, e.g. `stages.train.with.lr`. */
  path: string;
  message: string;
}

export function formatDiagnostic(d: Diagnostic): string {
  return `${d.file}:${d.line}:${d.col}: ${d.path ? `${d.path}: ` : ''}${d.message}`;
}

/** The pipeline is invalid; `diagnostics` lists every problem found (nothing has run). */
export class PipelineError extends Error {
  constructor(readonly diagnostics: Diagnostic[]) {
    super(diagnostics.map(formatDiagnostic).join('\n'));
    this.name = 'PipelineError';
  }
}

/** A stage failed while running; names the expanded stage id and why. */
export class StageError extends Error {
  constructor(
    readonly stage: string,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`stage '${stage}' failed: ${reason}`, options);
    this.name = 'StageError';
  }
}

/** Bad command-line or option input outside a pipeline file (exit code 2 in the CLI). */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/**
 * `a, b, c`, or past `max` items `a, b, ..., t, ... (9980 more)`: messages list the valid
 * choices, and a file may declare thousands (one such message per error would make the output
 * grow with the square of the file). Stops iterating at `max` when `total` is given.
 */
export function listText(items: Iterable<string>, total?: number, max = 20): string {
  const shown: string[] = [];
  let n = 0;
  for (const item of items) {
    if (shown.length < max) shown.push(item);
    n++;
    if (total !== undefined && n >= max) break;
  }
  const count = total ?? n;
  return count > shown.length ? `${shown.join(', ')}, ... (${count - shown.length} more)` : shown.join(', ');
}

export function pathText(path: ReadonlyArray<string | number>): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
}
