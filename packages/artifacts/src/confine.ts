import { isAbsolute, relative, resolve, sep } from 'path';

/**
 * A name from an input lth did not write (a dataset manifest, a cache entry's entry.json, a
 * sweep name, a plugin or export path) that would lead outside the directory it belongs to.
 */
export class PathEscapeError extends Error {
  constructor(
    readonly where: string,
    readonly offending: string,
    readonly base: string,
    readonly problem: string,
  ) {
    super(`${where}: ${JSON.stringify(offending)} ${problem} (it must name a path inside ${base})`);
    this.name = 'PathEscapeError';
  }
}

/**
 * The absolute path of `name` inside `base`, or a PathEscapeError naming `where` (the file and
 * field the name came from). The check is lexical and strict, because the name comes from an
 * untrusted input: an empty name, a NUL byte, an absolute path, a backslash (a separator on
 * Windows, and never part of a name lth writes) and any `..` segment are refused outright,
 * rather than resolved and compared, so no spelling of an escape passes. Plain sub-paths such
 * as `files/report.html` are allowed.
 */
export function confinedPath(base: string, name: string, where: string): string {
  const root = resolve(base);
  const fail = (problem: string): never => {
    throw new PathEscapeError(where, name, root, problem);
  };
  if (typeof name !== 'string' || name.length === 0) fail('is empty');
  if (name.includes('\0')) fail('contains a NUL byte');
  if (name.includes('\\')) fail('contains a backslash');
  if (isAbsolute(name)) fail('is an absolute path');
  const segments = name.split('/');
  if (segments.some((s) => s === '..')) fail("has a '..' segment");
  if (segments.every((s) => s === '' || s === '.')) fail('names the directory itself, not a file in it');
  const full = resolve(root, name);
  const rel = relative(root, full);
  // Defence in depth: the lexical rules above already imply this.
  if (rel === '' || rel.startsWith('..') || isAbsolute(rel) || rel.split(sep).includes('..')) fail('leads outside the directory');
  return full;
}

/**
 * A single path segment (a file or directory name with no separator) from an untrusted input,
 * such as a sweep name or a cache key: refused unless it is made of letters, digits, '.', '_',
 * '-', '=' and '+', is not '.' or '..', and is at most 200 characters.
 */
export function safeSegment(name: string, where: string): string {
  if (typeof name !== 'string' || !/^[A-Za-z0-9._=+-]{1,200}$/.test(name) || name === '.' || name === '..') {
    throw new PathEscapeError(where, String(name), '.', "is not a plain name (use 1-200 letters, digits, '.', '_', '-', '=', '+'; not '.' or '..')");
  }
  return name;
}
