import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readTable } from '@lth/artifacts';
import { InProcessExecutor } from '../runner/in-process';
import { LocalStore } from '../cache/store';
import { loggingDir, testRegistry, writePipeline } from '../__tests__/helpers';
import { runSweep, type SweepEvent } from './study';
import { loadSpace } from './space';

process.env['LTH_BACKEND'] = 'cpu';

// score = x + 100 (base) + iterations (bud): base is shared by every trial, bud by every trial
// of one budget, so the cache should compute base once and bud once per rung.
const PIPELINE = `name: sw
params: { x: 0, iterations: 1, fail: false }
stages:
  base: { uses: test/work, with: { value: 100, tag: base } }
  bud: { uses: test/work, with: { value: "\${params.iterations}", tag: bud } }
  score: { uses: test/work, inputs: { a: base, b: bud }, with: { value: "\${params.x}", tag: score, sleepMs: 20, fail: "\${params.fail}" } }
  m: { uses: test/collect, inputs: { items: [score] } }
`;
const space = (pruner: string, extra = '') => `sampler: grid
params:
  x: { type: int, low: 1, high: 9 }
${extra}objective: { stage: m, metric: test.accuracy@last, direction: maximize }
pruner: { type: ${pruner}, eta: 3, minBudget: 1, maxBudget: 9 }
`;

function setup(spaceText: string) {
  const { dir, log, calls: logged } = loggingDir('lth-sweep-');
  const registry = testRegistry();
  const store = new LocalStore(join(dir, 'cache'));
  const pipelineFile = writePipeline(dir, PIPELINE);
  const spaceFile = writePipeline(dir, spaceText, 'space.yaml');
  const outDir = join(dir, 'study');
  const count = (tag: string) => logged().filter((c) => c.tag === tag).length;
  const sweep = async (opts: { signal?: AbortSignal; onEvent?: (e: SweepEvent) => void; parallel?: number } = {}) => {
    const loaded = loadSpace(spaceFile);
    if (opts.parallel) loaded.space.parallel = opts.parallel;
    const executor = new InProcessExecutor(registry, store, 1);
    return runSweep({ pipelineFile, spaceFile, space: loaded, registry, store, executor, outDir, signal: opts.signal, onEvent: opts.onEvent });
  };
  return { dir, log, outDir, sweep, count };
}

const reached = (trials: Array<{ trial: number; rungs: Array<{ budget: number }> }>) =>
  Object.fromEntries(trials.map((t) => [t.trial, t.rungs.map((r) => r.budget)]));

describe('runSweep over test stages', () => {
  it('SHA: 9 -> 3 -> 1 trials, shared stages computed once, results written, rerun free', async () => {
    const { sweep, count, outDir } = setup(space('sha'));
    const { study, files } = await sweep();
    expect(study.budgets).toEqual([1, 3, 9]);
    // trial t has x = t + 1: the top third are 6, 7, 8, then 8
    expect(reached(study.trials)).toEqual({ 0: [1], 1: [1], 2: [1], 3: [1], 4: [1], 5: [1], 6: [1, 3], 7: [1, 3], 8: [1, 3, 9] });
    expect(study.trials.map((t) => t.state)).toEqual([...Array(8).fill('pruned'), 'complete']);
    expect(study.trials[8]?.rungs.map((r) => r.value)).toEqual([110, 112, 118]);
    // the intermediate values: test/collect's one evaluation
    expect(study.trials[8]?.rungs[2]?.curve).toEqual([[0, 118]]);
    expect(study.best).toEqual({ trial: 8, params: { x: 9 }, budget: 9, value: 118 });
    expect([count('base'), count('bud'), count('score')]).toEqual([1, 3, 13]);
    expect(study.compute).toEqual({ budgetUsed: 9 + 9 + 9, budgetComputed: 27, budgetFull: 81 });
    expect(study.status).toBe('complete');

    const t = readTable(files.trials);
    expect(t.meta.columns.map((c) => c.name)).toEqual(['trial', 'x', 'budget', 'state', 'value', 'value@1', 'value@3', 'value@9', 'error']);
    expect(t.rows[8]).toEqual({ trial: 8, x: 9, budget: 9, state: 'complete', value: 118, 'value@1': 110, 'value@3': 112, 'value@9': 118, error: null });
    expect(t.rows[0]).toMatchObject({ trial: 0, budget: 1, state: 'pruned', 'value@3': null });
    const html = readFileSync(files.html, 'utf8');
    expect(html.match(/<svg/g)).toHaveLength(3);
    expect(JSON.parse(readFileSync(join(outDir, 'study.json'), 'utf8')).status).toBe('complete');

    // A second run resumes the finished study: nothing runs, same results.
    const again = await sweep();
    expect(count('score')).toBe(13);
    expect(reached(again.study.trials)).toEqual(reached(study.trials));
  });

  it('ASHA: promotes without waiting for rungs to fill (hand-worked order)', async () => {
    const { sweep } = setup(space('asha'));
    const { study } = await sweep();
    // See sha.test.ts "values rising with the trial number": t0, t1 stay at 1; t2, t3 reach 3.
    expect(reached(study.trials)).toEqual({ 0: [1], 1: [1], 2: [1, 3], 3: [1, 3], 4: [1, 3, 9], 5: [1, 3, 9], 6: [1, 3, 9], 7: [1, 3, 9], 8: [1, 3, 9] });
    expect(study.compute.budgetUsed).toBe(9 * 1 + 7 * 3 + 5 * 9);
  });

  it('failed trials rank last and are reported', async () => {
    const { sweep } = setup(space('sha', '  fail: { type: choice, values: [false, true] }\n').replace('high: 9', 'high: 3'));
    const { study, files } = await sweep();
    // trials: (x1,ok) (x1,fail) (x2,ok) (x2,fail) (x3,ok) (x3,fail); keep 2 of 6, then 1 of 2
    expect(reached(study.trials)).toEqual({ 0: [1], 1: [1], 2: [1, 3], 3: [1], 4: [1, 3, 9], 5: [1] });
    expect(study.trials.map((t) => t.state)).toEqual(['pruned', 'failed', 'pruned', 'failed', 'complete', 'failed']);
    expect(study.trials[1]?.rungs[0]?.error).toMatch(/stage 'score' failed: configured to fail/);
    expect(readTable(files.trials).rows[1]?.['error']).toMatch(/configured to fail/);
  });

  it('resumes after an interruption without redoing finished trial-rungs', async () => {
    const { sweep, count, outDir } = setup(space('sha'));
    const abort = new AbortController();
    let done = 0;
    const first = await sweep({
      signal: abort.signal,
      parallel: 2,
      onEvent: (e) => {
        if (e.type === 'trial' && e.state !== 'running' && ++done === 3) abort.abort();
      },
    });
    expect(first.study.status).toBe('interrupted');
    const saved = JSON.parse(readFileSync(join(outDir, 'study.json'), 'utf8'));
    expect(saved.status).toBe('interrupted');
    // No trial is called pruned before the study has decided: they are pending.
    expect(new Set(saved.trials.map((t: { state: string }) => t.state))).toEqual(new Set(['pending']));
    const finished = saved.trials.reduce((a: number, t: { rungs: unknown[] }) => a + t.rungs.length, 0);
    expect(finished).toBe(3);
    // The other running trial-rung may have finished its score stage (cached) before its
    // last stage was skipped: it is not a finished trial-rung, but its stages stay cached.
    expect(count('score')).toBeGreaterThanOrEqual(3);

    const events: SweepEvent[] = [];
    const second = await sweep({ onEvent: (e) => events.push(e) });
    expect(events[0]).toEqual({ type: 'start', budgets: [1, 3, 9], trials: 9, resumed: 3 });
    expect(second.study.status).toBe('complete');
    expect(reached(second.study.trials)[8]).toEqual([1, 3, 9]);
    // 13 trial-rungs in all, each computed exactly once over the two invocations.
    expect(count('score')).toBe(13);
    expect(events.filter((e) => e.type === 'trial' && e.state === 'running')).toHaveLength(10);
  });

  it('refuses to resume a study made with another space', async () => {
    const { sweep, dir } = setup(space('sha'));
    await sweep();
    writeFileSync(join(dir, 'space.yaml'), space('asha'));
    await expect(sweep()).rejects.toThrow(/made with a different space or pipeline; use --fresh/);
  });
});
