import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { calls, lth, tempDir, testEnv, writeFile } from './__tests__/harness';

const TEXT = `name: t
params: { a: 1, b: 10, fail: false }
stages:
  x: { uses: test/work, with: { value: "\${params.a}", tag: x } }
  y: { uses: test/work, with: { value: "\${params.b}", tag: y, fail: "\${params.fail}" } }
  xy: { uses: test/work, inputs: { a: x, b: y }, with: { tag: xy } }
  all: { uses: test/collect, inputs: { items: [xy, x] } }
`;

function setup() {
  const dir = tempDir();
  const log = join(dir, 'calls.log');
  const file = writeFile(dir, 't.yaml', TEXT);
  const cache = join(dir, 'cache');
  const env = testEnv(log);
  const run = (...args: string[]) => lth(['run', file, '--cache-dir', cache, '--in-process', ...args], env);
  return { dir, log, file, cache, env, run };
}

describe('lth CLI', () => {
  it('run --json prints the run record; exit 0; second run all cached', async () => {
    const { run, log } = setup();
    const r = await run('--json');
    expect(r.code).toBe(0);
    const rec = JSON.parse(r.out);
    expect(rec.backend).toBe('cpu');
    expect(rec.stages.map((s: { id: string; status: string }) => [s.id, s.status])).toEqual([
      ['x', 'ran'],
      ['y', 'ran'],
      ['xy', 'ran'],
      ['all', 'ran'],
    ]);
    const xy = rec.stages[2];
    expect(Object.keys(xy).sort()).toEqual(expect.arrayContaining(['id', 'uses', 'status', 'durationMs', 'cacheKey', 'inputs', 'outputs', 'why']));
    expect(xy.uses).toBe('test/work');
    expect(xy.cacheKey).toMatch(/^[0-9a-f]{64}$/);
    expect(typeof xy.durationMs).toBe('number');
    // where its time went, as the run-record schema types it (StageTimings)
    expect(Object.keys(xy.timings).sort()).toEqual(['cache', 'io', 'queueMs', 'runMs', 'startup']);
    expect(xy.inputs).toEqual({ a: { stage: 'x', port: 'table' }, b: { stage: 'y', port: 'table' } });
    expect(existsSync(xy.outputs.table)).toBe(true);
    expect(r.err).toMatch(/run record: .*runs[/\\].*-t\.json/);
    expect(r.err).toMatch(/outputs: .*files/); // no report/* stage: the last stage's files
    expect(calls(log)).toHaveLength(4);
    const again = await run('--json');
    expect(again.code).toBe(0);
    expect(
      JSON.parse(again.out).stages.every((s: { status: string; timings: object }) => s.status === 'cached' && Object.keys(s.timings).join() === 'cache'),
    ).toBe(true);
    expect(calls(log)).toHaveLength(4);
  });

  it('exit code 2 for an invalid pipeline (file:line:col on stderr), nothing runs', async () => {
    const { dir, env, log, cache } = setup();
    const bad = writeFile(dir, 'bad.yaml', 'name: b\nstages:\n  a: { uses: test/wrok }\n  b: { uses: test/work, inputs: { a: nope } }\n');
    const r = await lth(['run', bad, '--cache-dir', cache], env);
    expect(r.code).toBe(2);
    expect(r.err).toContain(`${bad}:3:14: stages.a.uses: unknown stage 'test/wrok'; registered: test/collect, test/curve, test/metrics, test/need, test/work`);
    expect(r.err).toContain(`${bad}:4:38: stages.b.inputs.a: unknown stage 'nope'`);
    expect(r.err).toContain('2 errors; nothing was run');
    expect(calls(log)).toHaveLength(0);
  });

  it('exit code 2 for bad flags, unknown --set params, unknown --force stages and unknown commands', async () => {
    const { run, env } = setup();
    expect((await run('--jobs', 'zero')).code).toBe(2);
    const set = await run('--set', 'params.nope=1');
    expect(set.code).toBe(2);
    expect(set.err).toContain("unknown parameter 'nope'; valid: a, b, fail");
    const force = await run('--force', 'zz');
    expect(force.code).toBe(2);
    expect(force.err).toContain('--force zz: no such stage; stages: x, y, xy, all');
    expect((await lth(['frobnicate'], env)).code).toBe(2);
    expect((await lth(['run'], env)).code).toBe(2);
  });

  it('--help works on every command with exit 0', async () => {
    const { env } = setup();
    for (const argv of [
      ['--help'],
      ['run', '--help'],
      ['status', '--help'],
      ['graph', '--help'],
      ['cache', 'gc', '--help'],
      ['cache', 'ls', '--help'],
      ['stages', '--help'],
      ['models', '--help'],
      ['datasets', 'show', '--help'],
      ['report', '--help'],
    ]) {
      const r = await lth(argv, env);
      expect([argv.join(' '), r.code]).toEqual([argv.join(' '), 0]);
      expect(r.out).toContain('Usage: lth');
    }
  });

  it('exit code 1 when a stage fails; the error names the stage; a fixed rerun resumes', async () => {
    const { run, log } = setup();
    const r = await run('--set', 'params.fail=true', '--json');
    expect(r.code).toBe(1);
    expect(r.err).toContain("stage 'y' failed: configured to fail (y)");
    const rec = JSON.parse(r.out);
    expect(rec.stages.map((s: { status: string }) => s.status)).toEqual(['ran', 'failed', 'skipped', 'skipped']);
    const fixed = await run('--json');
    expect(fixed.code).toBe(0);
    expect(JSON.parse(fixed.out).stages.map((s: { status: string }) => s.status)).toEqual(['cached', 'ran', 'ran', 'ran']);
    expect(calls(log).map((c) => c.tag)).toEqual(['x', 'y', 'xy', 'collect']);
  });

  it('status says what would run and which key part changed', async () => {
    const { run, file, cache, env } = setup();
    await run();
    const st = await lth(['status', file, '--cache-dir', cache, '--set', 'params.b=11'], env);
    expect(st.code).toBe(0);
    expect(st.out).toMatch(/^cached {2}x +test\/work: cache hit/m);
    expect(st.out).toMatch(/^run {5}y +test\/work: config changed: value 10 -> 11$/m);
    expect(st.out).toMatch(/^run {5}xy +test\/work: upstream stage y will run$/m);
    expect(st.out).toContain('3 of 4 stages would run');
  });

  it('graph prints text and DOT', async () => {
    const { file, env } = setup();
    const text = await lth(['graph', file], env);
    expect(text.out).toContain('xy  [test/work]\n  a <- x.table\n  b <- y.table\n');
    const dot = await lth(['graph', file, '--dot'], env);
    expect(dot.out).toMatch(/^digraph "t" \{/);
    expect(dot.out).toContain('"x" -> "xy" [label="table→a"];');
    expect(dot.out).toContain('"xy" -> "all" [label="table→items"];');
  });

  it('cache ls, cache gc keeps what the pipeline needs, report prints the output location', async () => {
    const { run, file, cache, env } = setup();
    await run();
    await run('--set', 'params.b=11');
    const ls = await lth(['cache', 'ls', '--cache-dir', cache, '--json'], env);
    expect(JSON.parse(ls.out)).toHaveLength(7);
    // --grace 0: entries this young are otherwise kept whatever the runs say
    const gc = await lth(['cache', 'gc', '--cache-dir', cache, '--keep-runs', '1', '--grace', '0', file], env);
    expect(gc.code).toBe(0);
    // the newest run (b=11) and the pipeline as it is now (b=10) share x: 4 + 3 entries stay
    expect(gc.out).toContain('kept 7 entries, removed 0');
    const young = await lth(['cache', 'gc', '--cache-dir', cache, '--keep-runs', '1'], env);
    expect(young.out).toContain('kept 7 entries (3 only because a live run uses them or they are younger than 600 s), removed 0');
    const gc2 = await lth(['cache', 'gc', '--cache-dir', cache, '--keep-runs', '1', '--grace', '0'], env);
    expect(gc2.out).toContain('kept 4 entries, removed 3');
    expect(readdirSync(join(cache, 'entries'))).toHaveLength(4);
    expect(readdirSync(join(cache, 'runs'))).toHaveLength(1);
    const rep = await lth(['report', '--cache-dir', cache], env);
    expect(rep.code).toBe(0);
    expect(readFileSync(join(rep.out.trim(), 'report.md'), 'utf8')).toBe('# 2 items\n');
    expect((await lth(['report', 'nosuchrun', '--cache-dir', cache], env)).code).toBe(2);
  });

  it('stages lists ids, ports and config JSON schemas', async () => {
    const { env } = setup();
    const r = await lth(['stages', '--json'], env);
    const work = JSON.parse(r.out).stages.find((s: { id: string }) => s.id === 'test/work');
    expect(work.inputs).toEqual({ a: { kind: 'table', optional: true }, b: { kind: 'table', optional: true } });
    expect(work.config.properties.mode).toEqual({ default: 'fast', type: 'string', enum: ['fast', 'slow'] });
  });

  it('models and datasets come from @lth/models and @lth/data', async () => {
    const { env } = setup();
    const models = await lth(['models', '--json'], env);
    expect(models.code).toBe(0);
    const lenet = JSON.parse(models.out).find((m: { name: string }) => m.name === 'lenet_300_100');
    expect(lenet.params.prunable).toBe(266200);
    const text = await lth(['datasets'], env);
    expect(text.code).toBe(0);
    expect(text.out).toMatch(/^synthetic +generated/m);
  });
});
