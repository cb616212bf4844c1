// Plugin stages: a pipeline's `plugins:` names stage modules (paths relative to the file, or
// package names) that load in `lth` and in every worker process, and whose code is part of
// their stages' cache keys.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readArtifact } from '@lth/artifacts';
import { clearFingerprintCache } from '@lth/pipeline/testing';
import { calls, lth, tempDir, testEnv, writeFile } from './__tests__/harness';

const ZOD = require.resolve('zod');

/** A plugin module: one stage that multiplies its input's sum by `factor` and by helper.k. */
function plugin(dir: string, k: number, comment = ''): void {
  mkdirSync(join(dir, 'lib'), { recursive: true });
  writeFileSync(join(dir, 'lib', 'helper.js'), `exports.k = ${k};\n`);
  writeFileSync(
    join(dir, 'my-stages.js'),
    `// ${comment}
const { appendFileSync } = require('node:fs');
const { z } = require(${JSON.stringify(ZOD)});
const helper = require('./lib/helper');
exports.stages = [{
  id: 'plug/scale',
  description: 'sum of the input table times factor times helper.k',
  config: z.strictObject({ factor: z.number() }),
  inputs: { t: { kind: 'table' } },
  outputs: { table: { kind: 'table' } },
  async run(ctx, cfg, inputs) {
    if (process.env.LTH_TEST_LOG) appendFileSync(process.env.LTH_TEST_LOG, JSON.stringify({ tag: 'plug', pid: process.pid, start: 0, end: 0 }) + '\\n');
    const v = inputs.t.rows.reduce((a, r) => a + Number(r.v), 0) * cfg.factor * helper.k;
    return { table: { meta: { title: 'scaled', columns: [{ name: 'v', type: 'float64' }] }, rows: [{ v }] } };
  },
}];
`,
  );
}

const PIPELINE = `name: plug
plugins: [./my-stages.js]
stages:
  a: { uses: test/work, with: { value: 2, tag: a } }
  b: { uses: plug/scale, inputs: { t: a }, with: { factor: 3 } }
`;

function setup(text = PIPELINE) {
  const dir = tempDir();
  const log = join(dir, 'calls.log');
  const file = writeFile(dir, 'p.yaml', text);
  const cache = join(dir, 'cache');
  // A fresh `lth` process computes fingerprints anew; in this process, forget them.
  const run = async () => {
    clearFingerprintCache();
    const r = await lth(['run', file, '--cache-dir', cache, '--jobs', '2', '--json'], testEnv(log));
    return {
      ...r,
      rec:
        r.code === 0 || r.code === 1
          ? (JSON.parse(r.out) as { stages: Array<{ id: string; status: string; why: string; outputs: Record<string, string> }> })
          : undefined,
    };
  };
  return { dir, log, file, cache, run };
}

describe('plugins: in a pipeline file', () => {
  it('load in the worker processes of `lth run`; the output is in the cache', async () => {
    const { dir, log, cache, run } = setup();
    plugin(dir, 1);
    const r = await run();
    expect(r.err).not.toMatch(/FAILED/);
    expect(r.code).toBe(0);
    const b = r.rec?.stages.find((s) => s.id === 'b');
    expect(b?.status).toBe('ran');
    const out = b?.outputs['table'] as string;
    expect(out.startsWith(join(cache, 'entries'))).toBe(true);
    expect(readArtifact(out, 'table').rows).toEqual([{ v: 6 }]);
    const plug = calls(log).filter((c) => c.tag === 'plug');
    expect(plug).toHaveLength(1);
    expect(plug[0]?.pid).not.toBe(process.pid);
  });

  it('their code is part of the cache key: a change in the module or in a file it requires recomputes its stage', async () => {
    const { dir, log, run } = setup();
    plugin(dir, 1);
    expect((await run()).code).toBe(0);
    const again = await run();
    expect(again.rec?.stages.map((s) => s.status)).toEqual(['cached', 'cached']);
    plugin(dir, 2);
    const helperChanged = await run();
    expect(helperChanged.code).toBe(0);
    expect(helperChanged.rec?.stages.map((s) => [s.id, s.status])).toEqual([
      ['a', 'cached'],
      ['b', 'ran'],
    ]);
    expect(helperChanged.rec?.stages[1]?.why).toMatch(/^code changed \(plug\/scale package fingerprint/);
    expect(readArtifact(helperChanged.rec?.stages[1]?.outputs['table'] as string, 'table').rows).toEqual([{ v: 12 }]);
    plugin(dir, 2, 'only a comment changed');
    expect((await run()).rec?.stages.map((s) => s.status)).toEqual(['cached', 'ran']);
    expect(calls(log).filter((c) => c.tag === 'plug')).toHaveLength(3);
  });

  it("a package name is resolved from the pipeline file's directory", async () => {
    const { dir, run } = setup(PIPELINE.replace('./my-stages.js', 'my-lth-plugin'));
    const pkg = join(dir, 'node_modules', 'my-lth-plugin');
    plugin(pkg, 5);
    writeFileSync(join(pkg, 'package.json'), JSON.stringify({ name: 'my-lth-plugin', version: '1.0.0', main: 'my-stages.js' }));
    const r = await run();
    expect(r.code).toBe(0);
    expect(readArtifact(r.rec?.stages[1]?.outputs['table'] as string, 'table').rows).toEqual([{ v: 30 }]);
  });

  it('a missing plugin is bad input (exit 2) located at its entry', async () => {
    const { dir, file, run } = setup(PIPELINE.replace('./my-stages.js', './nope.js'));
    const r = await run();
    expect(r.code).toBe(2);
    expect(r.err).toContain(`${file}:2:11: plugins[0]: plugin './nope.js' (from ${dir}): not found`);
  });

  it('a wrong stage definition in a plugin is bad input naming the module and the field', async () => {
    const { dir, file, run } = setup();
    writeFileSync(
      join(dir, 'my-stages.js'),
      "exports.stages = [{ id: 'plug/bad', description: 'no run', config: { safeParse() {} }, inputs: {}, outputs: {} }];\n",
    );
    const r = await run();
    expect(r.code).toBe(2);
    expect(r.err).toContain(`${file}:2:11: plugins[0]: plugin ${join(dir, 'my-stages.js')}: stages[0] (plug/bad): run: must be a function`);
    expect(existsSync(join(dir, 'cache', 'entries'))).toBe(false);
  });
});
