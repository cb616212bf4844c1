// Another Arrow implementation must read every artifact: pyarrow (Arrow C++) opens each kind as
// an IPC *file* and we compare what it sees. Runs where pyarrow is importable: on PYTHONPATH, or
// installed by .ci/run into .cache/pyarrow (pip install --target); skips with the reason otherwise.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { writeArtifact } from './kinds';
import { summarizeSparsity } from './sparsity';

const local = resolve(__dirname, '../../../.cache/pyarrow');
const env = { ...process.env, PYTHONPATH: [existsSync(local) ? local : '', process.env['PYTHONPATH'] ?? ''].filter(Boolean).join(':') };
const probe = spawnSync('python3', ['-c', 'import pyarrow; print(pyarrow.__version__)'], { env, encoding: 'utf8' });
const hasPyarrow = probe.status === 0;
if (!hasPyarrow) {
  console.warn(
    `skipping pyarrow interop tests: pyarrow not importable (${(probe.stderr || probe.error?.message || '').trim().split('\n').pop()}); run: pip install --target .cache/pyarrow pyarrow`,
  );
}
const maybe = hasPyarrow ? it : it.skip;
const dir = mkdtempSync(join(tmpdir(), 'lth-interop-'));

function pyRead(file: string): { kind: string; rows: Record<string, unknown>[] } {
  const script = `
import json, sys, pyarrow.ipc as ipc
r = ipc.open_file(sys.argv[1])
t = r.read_all()
md = {k.decode(): v.decode() for k, v in (t.schema.metadata or {}).items()}
print(json.dumps({"kind": md.get("lth.kind"), "rows": t.to_pylist()}))`;
  const out = spawnSync('python3', ['-c', script, file], { env, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  if (out.status !== 0) throw new Error(`pyarrow could not read ${file}: ${out.stderr}`);
  return JSON.parse(out.stdout);
}

describe('artifacts read by pyarrow (Arrow C++)', () => {
  maybe('reads a tensors bundle split over several batches', async () => {
    const file = join(dir, 'w.arrow');
    await writeArtifact(file, 'tensors', {
      meta: { content: 'init', model: { arch: 'x', options: {} } },
      tensors: [
        { name: 'a', role: 'fc', shape: [2, 2], values: new Float32Array([1, 2, 3, 4]) },
        { name: 'b', role: 'bias', shape: [], values: new Float32Array([5]) },
        { name: 'big', role: 'conv', shape: [4194305], values: new Float32Array(4194305).fill(0.5) },
      ],
    });
    const { kind, rows } = pyRead(file);
    expect(kind).toBe('tensors');
    expect(rows.map((r) => [r['name'], r['role'], r['shape'], r['dtype']])).toEqual([
      ['a', 'fc', [2, 2], 'float32'],
      ['b', 'bias', [], 'float32'],
      ['big', 'conv', [4194305], 'float32'],
    ]);
    expect(rows[0]!['values']).toEqual([1, 2, 3, 4]);
    expect((rows[2]!['values'] as number[]).length).toBe(4194305);
  });

  maybe('reads masks, dataset, metrics, sparsity and table artifacts', async () => {
    await writeArtifact(join(dir, 'm.arrow'), 'tensors', {
      meta: { content: 'mask', model: { arch: 'x', options: {} } },
      tensors: [{ name: 'a', role: 'fc', shape: [3], values: new Uint8Array([1, 0, 1]) }],
    });
    expect(pyRead(join(dir, 'm.arrow')).rows[0]!['values']).toEqual([1, 0, 1]);

    await writeArtifact(join(dir, 'd.arrow'), 'dataset', {
      meta: {
        name: 't',
        shape: [1, 2, 1],
        classes: ['a', 'b'],
        seed: 0,
        splits: { train: { offset: 0, count: 1 }, validation: { offset: 1, count: 0 }, test: { offset: 1, count: 1 } },
        normalization: { mean: [0], std: [1] },
        source: { origin: 'x', files: {} },
      },
      images: new Uint8Array([1, 2, 3, 4]),
      labels: new Uint8Array([0, 1]),
    });
    expect(pyRead(join(dir, 'd.arrow')).rows).toEqual([
      { image: [1, 2], label: 0 },
      { image: [3, 4], label: 1 },
    ]);

    await writeArtifact(join(dir, 'x.arrow'), 'metrics', { meta: {}, rows: [{ iteration: 5, split: 'test', loss: 0.5, accuracy: 0.75 }] });
    expect(pyRead(join(dir, 'x.arrow')).rows).toEqual([{ iteration: 5, split: 'test', loss: 0.5, accuracy: 0.75 }]);

    await writeArtifact(join(dir, 's.arrow'), 'sparsity', summarizeSparsity([{ layer: 'l', role: 'conv', total: 4, remaining: 1 }]));
    expect(pyRead(join(dir, 's.arrow')).rows).toEqual([{ layer: 'l', role: 'conv', total: 4, remaining: 1, fraction: 0.25 }]);

    await writeArtifact(join(dir, 't.arrow'), 'table', {
      meta: {
        title: 't',
        columns: [
          { name: 'v', type: 'utf8' },
          { name: 'x', type: 'float64' },
        ],
      },
      rows: [{ v: 'a', x: null }],
    });
    const t = pyRead(join(dir, 't.arrow'));
    expect(t).toEqual({ kind: 'table', rows: [{ v: 'a', x: null }] });

    await writeArtifact(join(dir, 'e.arrow'), 'metrics', { meta: {}, rows: [] });
    expect(pyRead(join(dir, 'e.arrow')).rows).toEqual([]);
  });
});
