import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { codeFingerprint } from '../index';
import { clearFingerprintCache } from '../testing';
import { tempDir } from '../__tests__/helpers';

function pkg(dir: string, name: string, deps: Record<string, string>, files: Record<string, string>): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name, version: '1.0.0', dependencies: deps }));
  for (const [f, text] of Object.entries(files)) {
    mkdirSync(join(dir, f, '..'), { recursive: true });
    writeFileSync(join(dir, f), text);
  }
}

describe('code fingerprints', () => {
  it('change with the built code, transitive @lth deps and third-party versions; not with tests or sources beside a build', () => {
    const root = tempDir();
    const nm = join(root, 'node_modules');
    pkg(join(nm, '@lth', 'low'), '@lth/low', {}, { 'dist/index.js': 'low v1' });
    pkg(join(nm, 'thirdparty'), 'thirdparty', {}, { 'index.js': '' });
    const stage = join(root, 'stagepkg');
    pkg(stage, 'stagepkg', { '@lth/low': '*', thirdparty: '*' }, { 'dist/index.js': 'v1', 'dist/x.test.js': 't', 'src/index.ts': 's' });
    const fp = () => {
      clearFingerprintCache();
      return codeFingerprint(stage);
    };
    const base = fp();
    expect(base).toMatch(/^[0-9a-f]{64}$/);
    writeFileSync(join(stage, 'dist', 'x.test.js'), 'changed test');
    writeFileSync(join(stage, 'src', 'index.ts'), 'changed source (dist is what runs)');
    expect(fp()).toBe(base);
    writeFileSync(join(nm, '@lth', 'low', 'dist', 'index.js'), 'low v2');
    const low2 = fp();
    expect(low2).not.toBe(base);
    writeFileSync(join(nm, 'thirdparty', 'package.json'), JSON.stringify({ name: 'thirdparty', version: '2.0.0' }));
    const tp2 = fp();
    expect(tp2).not.toBe(low2);
    writeFileSync(join(stage, 'dist', 'index.js'), 'v2');
    expect(fp()).not.toBe(tp2);
  });

  it('without a build, hashes src minus tests', () => {
    const root = tempDir();
    const stage = join(root, 'p');
    pkg(stage, 'p', {}, { 'src/a.ts': '1', 'src/a.test.ts': 't', 'src/__tests__/f.ts': 'f' });
    clearFingerprintCache();
    const a = codeFingerprint(stage);
    writeFileSync(join(stage, 'src', 'a.test.ts'), 't2');
    writeFileSync(join(stage, 'src', '__tests__', 'f.ts'), 'f2');
    clearFingerprintCache();
    expect(codeFingerprint(stage)).toBe(a);
    writeFileSync(join(stage, 'src', 'a.ts'), '2');
    clearFingerprintCache();
    expect(codeFingerprint(stage)).not.toBe(a);
  });

  it('hash the code that runs: a stray file in dist/ (a build leftover) changes nothing, a required file does', () => {
    const root = tempDir();
    const stage = join(root, 'p');
    pkg(
      stage,
      'p',
      {},
      { 'dist/index.js': 'const a = require("./a");\nexports.x = require("./sub");\n', 'dist/a.js': 'a1', 'dist/sub/index.js': 'require("../a.js");' },
    );
    const fp = () => {
      clearFingerprintCache();
      return codeFingerprint(stage);
    };
    const base = fp();
    // what a moved or deleted source leaves behind in dist/, and a fresh build would not have
    writeFileSync(join(stage, 'dist', 'old-name.js'), 'stale');
    mkdirSync(join(stage, 'dist', 'old-folder'));
    writeFileSync(join(stage, 'dist', 'old-folder', 'x.js'), 'stale too');
    expect(fp()).toBe(base);
    writeFileSync(join(stage, 'dist', 'a.js'), 'a2');
    const a2 = fp();
    expect(a2).not.toBe(base);
    writeFileSync(join(stage, 'dist', 'sub', 'index.js'), 'require("../a.js"); // changed');
    expect(fp()).not.toBe(a2);
  });

  it('entry points come from main and exports', () => {
    const root = tempDir();
    const stage = join(root, 'p');
    mkdirSync(stage, { recursive: true });
    writeFileSync(
      join(stage, 'package.json'),
      JSON.stringify({ name: 'p', version: '1.0.0', main: './lib/main.js', exports: { '.': './lib/main.js', './light': { default: './lib/light.js' } } }),
    );
    mkdirSync(join(stage, 'lib'));
    writeFileSync(join(stage, 'lib', 'main.js'), 'm');
    writeFileSync(join(stage, 'lib', 'light.js'), 'l1');
    writeFileSync(join(stage, 'lib', 'unused.js'), 'u1');
    const fp = () => {
      clearFingerprintCache();
      return codeFingerprint(stage);
    };
    const base = fp();
    writeFileSync(join(stage, 'lib', 'unused.js'), 'u2');
    expect(fp()).toBe(base);
    writeFileSync(join(stage, 'lib', 'light.js'), 'l2');
    expect(fp()).not.toBe(base);
  });

  it('a loose module file (a plugin) is hashed with the files it requires relatively', () => {
    const dir = tempDir();
    const file = join(dir, 'my-stages.js');
    writeFileSync(file, 'const h = require("./lib/helper");\nexports.stages = [];\n');
    mkdirSync(join(dir, 'lib'));
    writeFileSync(join(dir, 'lib', 'helper.js'), 'module.exports = 1;');
    writeFileSync(join(dir, 'other.js'), 'not required');
    const fp = () => {
      clearFingerprintCache();
      return codeFingerprint(file);
    };
    const base = fp();
    writeFileSync(join(dir, 'other.js'), 'still not required');
    expect(fp()).toBe(base);
    writeFileSync(join(dir, 'lib', 'helper.js'), 'module.exports = 2;');
    const helper2 = fp();
    expect(helper2).not.toBe(base);
    writeFileSync(file, 'const h = require("./lib/helper");\nexports.stages = []; // v2\n');
    expect(fp()).not.toBe(helper2);
  });
});
