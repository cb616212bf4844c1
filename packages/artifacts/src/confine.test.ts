import { join, resolve } from 'path';
import { confinedPath, PathEscapeError, safeSegment } from './confine';

const base = '/tmp/lth-base';

describe('confinedPath', () => {
  it('resolves plain names and sub-paths inside the base', () => {
    expect(confinedPath(base, 'train-images.gz', 'm.json: files.a.name')).toBe(join(base, 'train-images.gz'));
    expect(confinedPath(base, 'files/report.html', 'entry.json: files')).toBe(join(base, 'files', 'report.html'));
    expect(confinedPath(base, './a/./b', 'x')).toBe(join(base, 'a', 'b'));
  });

  it.each([
    ['../../victim.txt', "has a '..' segment"],
    ['a/../../b', "has a '..' segment"],
    ['..', "has a '..' segment"],
    ['/etc/passwd', 'is an absolute path'],
    ['a\\..\\b', 'contains a backslash'],
    ['a\0b', 'contains a NUL byte'],
    ['', 'is empty'],
    ['.', 'names the directory itself'],
    ['./', 'names the directory itself'],
  ])('refuses %j, naming where it came from', (name, problem) => {
    let err: unknown;
    try {
      confinedPath(base, name, 'mnist.json: files.train-labels.name');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(PathEscapeError);
    expect((err as Error).message).toContain('mnist.json: files.train-labels.name');
    expect((err as Error).message).toContain(problem);
  });

  it('never returns a path outside the base, for any seeded random name (property)', () => {
    // Names built from the characters that matter for escapes; a fixed seed keeps it reproducible.
    const alphabet = ['.', '..', '/', 'a', 'b', '\\', '~', '%2e', ' ', '\0', 'C:', '//'];
    let s = 12345;
    const rand = (n: number) => {
      s = (s * 1103515245 + 12345) % 2 ** 31;
      return s % n;
    };
    const root = resolve(base);
    for (let i = 0; i < 20000; i++) {
      const len = 1 + rand(8);
      let name = '';
      for (let j = 0; j < len; j++) name += alphabet[rand(alphabet.length)];
      let out: string | undefined;
      try {
        out = confinedPath(base, name, 'prop');
      } catch (e) {
        expect(e).toBeInstanceOf(PathEscapeError);
        continue;
      }
      expect(out.startsWith(root + '/')).toBe(true);
    }
  });
});

describe('safeSegment', () => {
  it('accepts plain names and refuses separators, dots and odd characters', () => {
    expect(safeSegment('lenet-lr_study.v2', 'sweep name')).toBe('lenet-lr_study.v2');
    for (const bad of ['..', '.', 'a/b', 'a\\b', '', 'x'.repeat(201), 'a b', 'é']) {
      expect(() => safeSegment(bad, 'sweep name')).toThrow(PathEscapeError);
    }
    expect(() => safeSegment('..', 'sweep name')).toThrow('sweep name: ".." is not a plain name');
  });
});
