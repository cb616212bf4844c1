// docs/INTEROP.md stays true: each of its Python snippets runs, as printed there, in a directory
// holding the artifacts it names (written here by writeArtifact), and prints what it should.
// Runs where pyarrow (and, for the DuckDB snippet, duckdb) import: on PYTHONPATH or in
// .cache/pyarrow, where .ci/run installs them; skips with the reason otherwise.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { writeArtifact } from './kinds';

const DOC = resolve(__dirname, '../../../docs/INTEROP.md');
const local = resolve(__dirname, '../../../.cache/pyarrow');
const env = { ...process.env, PYTHONPATH: [existsSync(local) ? local : '', process.env['PYTHONPATH'] ?? ''].filter(Boolean).join(':') };

function importable(module: string): string | undefined {
  const probe = spawnSync('python3', ['-c', `import ${module}`], { env, encoding: 'utf8' });
  return probe.status === 0 ? undefined : (probe.stderr || probe.error?.message || 'python3 failed').trim().split('\n').pop();
}
const missing = { pyarrow: importable('pyarrow'), duckdb: importable('duckdb') };
for (const [m, why] of Object.entries(missing)) {
  if (why) console.warn(`skipping the docs/INTEROP.md ${m} snippets: ${m} not importable (${why}); run: pip install --target .cache/pyarrow pyarrow duckdb`);
}

/** The ```python blocks of docs/INTEROP.md, in order. */
const snippets = [...readFileSync(DOC, 'utf8').matchAll(/```python\n([\s\S]*?)```/g)].map((m) => m[1]!);

let dir: string;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lth-interop-docs-'));
  await writeArtifact(join(dir, 'metrics.arrow'), 'metrics', {
    meta: { iterations: 100 },
    rows: [
      { iteration: 0, split: 'test', loss: 2.3, accuracy: 0.1 },
      { iteration: 100, split: 'test', loss: 0.4, accuracy: 0.875 },
      { iteration: 100, split: 'validation', loss: 0.5, accuracy: 0.75 },
    ],
  });
  await writeArtifact(join(dir, 'mask.arrow'), 'tensors', {
    meta: { content: 'mask', model: { arch: 'lenet_300_100', options: {} } },
    tensors: [
      { name: 'fc1.weight', role: 'fc', shape: [2, 3], values: new Uint8Array([1, 0, 1, 1, 0, 0]) },
      { name: 'fc2.weight', role: 'output', shape: [3, 1], values: new Uint8Array([1, 1, 0]) },
    ],
  });
});

function runSnippet(code: string): string {
  const r = spawnSync('python3', ['-c', code], { cwd: dir, env, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`docs/INTEROP.md snippet failed:\n${code}\n${r.stderr}`);
  return r.stdout;
}

const find = (needle: string) => {
  const s = snippets.find((c) => c.includes(needle));
  if (!s) throw new Error(`docs/INTEROP.md has no python snippet with ${needle}`);
  return s;
};

describe('docs/INTEROP.md', () => {
  it('has the pyarrow, tensors and DuckDB snippets this test runs', () => {
    expect(snippets).toHaveLength(3);
  });

  (missing.pyarrow ? it.skip : it)('pyarrow: the metadata and the rows of a metrics artifact', () => {
    expect(runSnippet(find('lth.kind'))).toBe("metrics 100\n{'iteration': 0, 'split': 'test', 'loss': 2.3, 'accuracy': 0.1}\n");
  });

  (missing.pyarrow ? it.skip : it)('pyarrow + numpy: a mask bundle as arrays in their shapes', () => {
    expect(runSnippet(find('"mask.arrow"'))).toBe("{'fc1.weight': ((2, 3), 3), 'fc2.weight': ((3, 1), 2)}\n");
  });

  (missing.pyarrow || missing.duckdb ? it.skip : it)('DuckDB through pyarrow: SQL over a metrics artifact', () => {
    expect(runSnippet(find('duckdb'))).toBe("[('test', 0.875), ('validation', 0.75)]\n");
  });
});
