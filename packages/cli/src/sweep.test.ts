import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { calls, lth, spawnLth, tempDir, testEnv, writeFile } from './__tests__/harness';

const PIPELINE = `name: t
params: { x: 0, iterations: 1 }
stages:
  w: { uses: test/work, with: { value: "\${params.x}", tag: w } }
  b: { uses: test/work, inputs: { a: w }, with: { value: "\${params.iterations}", tag: b } }
  m: { uses: test/collect, inputs: { items: [b] } }
`;
const SPACE = `name: cli-sweep
sampler: grid
params:
  x: { type: int, low: 1, high: 3 }
objective: { stage: m, metric: test.accuracy@last, direction: minimize }
pruner: { type: sha, eta: 3, minBudget: 1, maxBudget: 3 }
`;

function setup(space = SPACE) {
  const dir = tempDir();
  const log = join(dir, 'calls.log');
  const file = writeFile(dir, 't.yaml', PIPELINE);
  const spaceFile = writeFile(dir, 's.yaml', space);
  const out = join(dir, 'study');
  const sweep = (...args: string[]) =>
    lth(['sweep', file, '--space', spaceFile, '--out', out, '--cache-dir', join(dir, 'cache'), '--in-process', ...args], testEnv(log));
  return { dir, log, out, sweep };
}

describe('lth sweep', () => {
  it('runs the study, prints the trials, the best and the compute; a rerun resumes it for free', async () => {
    const { sweep, out, log } = setup();
    const r = await sweep('--json');
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/sweep: 3 trials, budgets 1 \/ 3/);
    expect(r.err).toMatch(/trial 0 @ 3: 4 \(/);
    expect(r.err).toMatch(/best: trial 0 \{"x":1\}: 4 at iterations=3/);
    expect(r.err).toMatch(/compute: 6 iterations over all trial-rungs \(66\.7% of 9 for every trial at the full budget\); 6 computed/);
    expect(JSON.parse(r.out).trials.map((t: { state: string }) => t.state)).toEqual(['complete', 'pruned', 'pruned']);
    for (const f of ['study.json', 'trials.arrow', 'sweep.html']) expect(existsSync(join(out, f))).toBe(true);
    const n = calls(log).length;
    const again = await sweep('--resume');
    expect(again.code).toBe(0);
    expect(again.err).toMatch(/resuming with 4 trial-rungs already done/);
    expect(calls(log)).toHaveLength(n);
  });

  it('invalid space: file:line:col errors, exit 2, nothing run', async () => {
    const { sweep, log } = setup(SPACE.replace('x: {', 'y: {'));
    const r = await sweep();
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/s\.yaml:4:3: params\.y: 'y' is not a param of pipeline 't'; valid: x, iterations/);
    expect(calls(log)).toHaveLength(0);
  });

  it('--resume without a study, and --resume with --fresh, are usage errors', async () => {
    const { sweep } = setup();
    expect((await sweep('--resume')).err).toMatch(/--resume: no study to resume in .*study \(no study\.json\)/);
    const both = await sweep('--resume', '--fresh');
    expect(both.code).toBe(2);
    expect(both.err).toMatch(/exclude each other/);
  });

  it("takes the space from the pipeline's sweep: block when --space is not given", async () => {
    const dir = tempDir();
    const log = join(dir, 'calls.log');
    const block = `sweep:\n${SPACE.replace('name: cli-sweep', 'name: from-block').replace(/^/gm, '  ')}`;
    const file = writeFile(dir, 't.yaml', `${PIPELINE}${block}`);
    const run = (f: string) => lth(['sweep', f, '--out', join(dir, 'study'), '--cache-dir', join(dir, 'cache'), '--in-process'], testEnv(log));
    const r = await run(file);
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/best: trial 0 \{"x":1\}: 4 at iterations=3/);
    // `lth run` ignores the block
    expect((await lth(['run', file, '--cache-dir', join(dir, 'cache'), '--in-process'], testEnv(log))).code).toBe(0);
    const none = await run(writeFile(dir, 'plain.yaml', PIPELINE));
    expect(none.code).toBe(2);
    expect(none.err).toMatch(/plain\.yaml: no 'sweep:' block; give the search space with --space FILE/);
  });

  it("a sweep or pipeline named '..' is refused (exit 2, located) and writes nothing outside .lth/sweeps/", async () => {
    const dir = tempDir();
    const log = join(dir, 'calls.log');
    // The default study directory is .lth/sweeps/<name> under the working directory: run there.
    const sweepIn = async (pipeline: string, space: string) => {
      const p = spawnLth(
        ['sweep', writeFile(dir, 't.yaml', pipeline), '--space', writeFile(dir, 's.yaml', space), '--cache-dir', join(dir, 'cache'), '--in-process'],
        testEnv(log),
        dir,
      );
      const { code } = await p.exit;
      return { code, err: p.err() };
    };
    const bad = "must be a plain name: 1-200 characters of [A-Za-z0-9_.-], not '.' or '..'";
    const bySpace = await sweepIn(PIPELINE, SPACE.replace('name: cli-sweep', 'name: ".."'));
    expect(bySpace.code).toBe(2);
    expect(bySpace.err).toContain(`${join(dir, 's.yaml')}:1:7: name: ${bad}`);
    // without a space name the study is named after the pipeline
    const byPipeline = await sweepIn(PIPELINE.replace('name: t', 'name: ..'), SPACE.replace('name: cli-sweep\n', ''));
    expect(byPipeline.code).toBe(2);
    expect(byPipeline.err).toContain(`${join(dir, 't.yaml')}:1:7: name: ${bad}`);
    for (const r of [bySpace, byPipeline]) expect(r.err).not.toMatch(/\n\s+at /);
    expect(readdirSync(dir).sort()).toEqual(['s.yaml', 't.yaml']);
    expect(calls(log)).toHaveLength(0);
    // `lth run` refuses the name too (it names the run record)
    const run = await lth(['run', join(dir, 't.yaml'), '--cache-dir', join(dir, 'cache')], testEnv(log));
    expect(run.code).toBe(2);
    expect(run.err).toContain(`${join(dir, 't.yaml')}:1:7: name: ${bad}`);
  }, 120_000);

  it('a grid or a trial count past the trials limit is refused before any trial is listed', async () => {
    const grid = setup(SPACE.replace('high: 3 }', 'high: 1000000000000 }'));
    const r = await grid.sweep();
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/s\.yaml:4:3: params: the grid has 1000000000000 combinations \(x: 1000000000000\); the limit is 10000 trials per sweep/);
    const random = setup(SPACE.replace('sampler: grid', 'sampler: random\ntrials: 1000000000'));
    const r2 = await random.sweep();
    expect(r2.code).toBe(2);
    expect(r2.err).toMatch(/s\.yaml:3:9: trials: 1000000000 trials; the limit is 10000 trials per sweep/);
    expect(calls(grid.log).length + calls(random.log).length).toBe(0);
  });
});
