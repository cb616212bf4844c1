import { join } from 'node:path';
import type { MetricRow } from '@lth/artifacts';
import { InProcessExecutor, LocalStore, ProcessExecutor, type Executor, type RunEvent } from '@lth/pipeline';
import { childEnv, loggingDir, testRegistry, writePipeline } from './__tests__/helpers';
import { ashaContinues, objectiveUpTo, rungsReached } from './single-run';
import { bestSoFarSpec, curvesSpec } from './html';
import { loadSpace } from './space';
import { runSweep, type SweepEvent } from './study';

process.env['LTH_BACKEND'] = 'cpu';

describe('single-run ASHA decisions (Optuna rule)', () => {
  it('continues within the top floor(n/eta) of the rung, or as the best so far below eta values', () => {
    expect(ashaContinues(5, [5], 3, 'maximize')).toBe(true);
    expect(ashaContinues(3, [5, 3], 3, 'maximize')).toBe(false);
    // n = 6, eta 3: the best 2 (9, 8) continue; a tie with the threshold continues
    expect(ashaContinues(6, [5, 3, 8, 1, 9, 6], 3, 'maximize')).toBe(false);
    expect(ashaContinues(8, [5, 3, 8, 1, 9, 8], 3, 'maximize')).toBe(true);
    expect(ashaContinues(0.2, [0.3, 0.2, 0.5], 3, 'minimize')).toBe(true);
    expect(ashaContinues(0.3, [0.3, 0.2, 0.5], 3, 'minimize')).toBe(false);
    // a missing value never continues, and ranks last for the others
    expect(ashaContinues(null, [null], 3, 'maximize')).toBe(false);
    expect(ashaContinues(1, [null, 1], 3, 'maximize')).toBe(true);
  });

  it('judges a rung at the first evaluation at or past its budget, with early stopping recomputed so far', () => {
    expect(rungsReached([100, 300, 900], 0, 50)).toEqual([]);
    expect(rungsReached([100, 300, 900], 0, 400)).toEqual([0, 1]);
    expect(rungsReached([100, 300, 900], 1, 900)).toEqual([1]); // the top rung is the completed run's
    const rows: MetricRow[] = [0, 1, 2].flatMap((i) => [
      { iteration: i, split: 'validation' as const, loss: [3, 1, 2][i] as number, accuracy: 0 },
      { iteration: i, split: 'test' as const, loss: 0, accuracy: 10 + i },
    ]);
    expect(objectiveUpTo(rows, 'test.accuracy@earlyStop', 0)).toBe(10);
    expect(objectiveUpTo(rows, 'test.accuracy@earlyStop', 2)).toBe(11);
    expect(objectiveUpTo(rows, 'test.accuracy@last', 2)).toBe(12);
  });
});

// fit is a fake trainer (fixtures/stages.ts): validation accuracy `a` before iteration 3, `b`
// from there on, for curve "a:b"; it evaluates every iteration and reports each evaluation.
const PIPELINE = `name: once
params: { curve: "0", iterations: 1, sleep: 2 }
stages:
  base: { uses: test/work, with: { value: 1, tag: base } }
  fit: { uses: test/curve, inputs: { a: base }, with: { curve: "\${params.curve}", iterations: "\${params.iterations}", sleepMs: "\${params.sleep}", tag: fit } }
`;
const SPACE = `sampler: grid
params:
  curve: { type: choice, values: ["5:5", "6:2", "1:9", "7:8", "4:9", "3:3"] }
objective: { stage: fit, metric: validation.accuracy@last, direction: maximize }
pruner: { type: asha, mode: single-run, eta: 3, minBudget: 1, maxBudget: 9 }
`;

function setup(spaceText: string, workers = false) {
  const { dir, log, calls } = loggingDir('lth-once-');
  const registry = testRegistry();
  const store = new LocalStore(join(dir, 'cache'));
  const pipelineFile = writePipeline(dir, PIPELINE);
  const spaceFile = writePipeline(dir, spaceText, 'space.yaml');
  const count = (tag: string) => calls().filter((c) => c.tag === tag).length;
  const sweep = async (resume: 'auto' | 'fresh' = 'auto', abortWhen?: (e: SweepEvent) => boolean) => {
    const abort = new AbortController();
    const runEvents: Array<{ trial: number; e: RunEvent }> = [];
    const events: SweepEvent[] = [];
    const executor: Executor = workers ? new ProcessExecutor(registry, store, 1, childEnv({ LTH_TEST_LOG: log })) : new InProcessExecutor(registry, store, 1);
    const r = await runSweep({
      pipelineFile,
      spaceFile,
      space: loadSpace(spaceFile),
      registry,
      store,
      executor,
      outDir: join(dir, 'study'),
      resume,
      signal: abort.signal,
      onEvent: (e) => {
        events.push(e);
        if (abortWhen?.(e)) abort.abort();
      },
      onRunEvent: (trial, _b, e) => runEvents.push({ trial, e }),
    }).finally(() => executor.close());
    return { ...r, runEvents, events };
  };
  const pids = (tag: string) =>
    calls()
      .filter((c) => c.tag === tag)
      .map((c) => c.pid);
  return { sweep, count, pids };
}

const summary = (trials: Array<{ state: string; trained?: number; rungs: Array<{ budget: number; value: number | null; at?: number }> }>) =>
  trials.map((t) => ({ state: t.state, trained: t.trained, rungs: t.rungs.map((r) => [r.budget, r.at, r.value]) }));

describe('runSweep, ASHA single-run', () => {
  it('stops exactly the trials the rule prunes, through the abort signal; they leave no cache entry', async () => {
    const { sweep, count } = setup(SPACE);
    const first = await sweep();
    const s = first.study;
    // t0 leads every rung; t1 is best at rung 0 (6 vs 5) but below t0 at rung 1 (2 vs 5);
    // t3 leads both; at rung 0 t2 (1 of 3) and t4 (4 of 5: keep 1) and t5 (3 of 6: keep 2) stop.
    expect(summary(s.trials)).toEqual([
      {
        state: 'complete',
        trained: 9,
        rungs: [
          [1, 1, 5],
          [3, 3, 5],
          [9, 9, 5],
        ],
      },
      {
        state: 'pruned',
        trained: 3,
        rungs: [
          [1, 1, 6],
          [3, 3, 2],
        ],
      },
      { state: 'pruned', trained: 1, rungs: [[1, 1, 1]] },
      {
        state: 'complete',
        trained: 9,
        rungs: [
          [1, 1, 7],
          [3, 3, 8],
          [9, 9, 8],
        ],
      },
      { state: 'pruned', trained: 1, rungs: [[1, 1, 4]] },
      { state: 'pruned', trained: 1, rungs: [[1, 1, 3]] },
    ]);
    expect(s.best).toMatchObject({ trial: 3, budget: 9, value: 8 });
    expect(s.compute).toEqual({ budgetUsed: 9 + 3 + 1 + 9 + 1 + 1, budgetComputed: 24, budgetFull: 6 * 9 });
    // Every trial started its one run; only the two complete ones finished it.
    expect([count('fit:start'), count('fit'), count('base')]).toEqual([6, 2, 1]);
    const fitStates = (trial: number) =>
      first.runEvents.filter((x) => x.trial === trial && x.e.type === 'stage' && x.e.id === 'fit').map((x) => (x.e as { state: string }).state);
    for (const t of [1, 2, 4, 5]) expect(fitStates(t)).toEqual(['pending', 'running', 'failed']);
    for (const t of [0, 3]) expect(fitStates(t)).toEqual(['pending', 'running', 'ran']);
    const failed = first.runEvents.find((x) => x.trial === 2 && x.e.type === 'stage' && x.e.state === 'failed')?.e;
    expect(failed).toMatchObject({ error: "stage 'fit' failed: interrupted" });
    // sweep.html: the best-so-far axis ends at the iterations trained; one curve per trial's run
    const spent = (bestSoFarSpec(s) as { data: { values: Array<{ spent: number }> } }).data.values.map((v) => v.spent);
    expect(Math.max(...spent)).toBe(24);
    const curves = (curvesSpec(s) as { data: { values: Array<{ run: string; iteration: number }> } }).data.values;
    expect(new Set(curves.map((v) => v.run)).size).toBe(6);
    expect(curves.filter((v) => v.run === '1@3').map((v) => v.iteration)).toEqual([0, 1, 2, 3]);
    expect(first.events.filter((e) => e.type === 'trial' && e.state === 'pruned').map((e) => (e.type === 'trial' ? e.trial : -1))).toEqual([1, 2, 4, 5]);

    // A fresh study over the same cache: the complete runs are cache hits, judged from their
    // metrics to the same decisions; the stopped ones had no entry and run (and stop) again.
    const again = await sweep('fresh');
    expect(summary(again.study.trials)).toEqual(summary(s.trials));
    expect([count('fit:start'), count('fit')]).toEqual([6 + 4, 2]);
    expect(again.study.compute).toEqual({ budgetUsed: 24, budgetComputed: 3 + 1 + 1 + 1, budgetFull: 54 });
  });

  it('stops a trial running in a worker process (abort over IPC), freeing the worker for the next', async () => {
    // 30 ms per iteration: the abort reaches the worker long before a stopped run could end.
    const space = SPACE.replace(/values: \[.*\] \}/, 'values: ["5:5", "6:2", "1:9"] }\n  sleep: { type: choice, values: [30] }');
    const { sweep, count, pids } = setup(space, true);
    const r = await sweep();
    expect(summary(r.study.trials)).toEqual([
      {
        state: 'complete',
        trained: 9,
        rungs: [
          [1, 1, 5],
          [3, 3, 5],
          [9, 9, 5],
        ],
      },
      {
        state: 'pruned',
        trained: 3,
        rungs: [
          [1, 1, 6],
          [3, 3, 2],
        ],
      },
      { state: 'pruned', trained: 1, rungs: [[1, 1, 1]] },
    ]);
    expect([count('fit:start'), count('fit')]).toEqual([3, 1]);
    // The stopped runs ended through their signal: the one worker ran every trial (a stage that
    // ignored it would have been killed after 5 s and a new worker forked).
    expect(new Set(pids('fit:start')).size).toBe(1);
    expect(pids('fit:start')[0]).not.toBe(process.pid);
  });

  it('resumes an interrupted study: a trial stopped by Ctrl-C mid-run runs again from the start', async () => {
    const { sweep, count } = setup(SPACE);
    // Interrupt while trial 3 runs on after passing rung 0.
    const first = await sweep('auto', (e) => e.type === 'trial' && e.trial === 3 && e.state === 'done');
    expect(first.study.status).toBe('interrupted');
    expect(first.study.trials.map((t) => [t.state, t.trained])).toEqual([
      ['complete', 9],
      ['pruned', 3],
      ['pruned', 1],
      ['pending', undefined],
      ['pending', undefined],
      ['pending', undefined],
    ]);
    expect(first.study.trials[3]?.rungs).toEqual([]);
    expect(first.study.compute).toEqual({ budgetUsed: 13, budgetComputed: 13, budgetFull: 54 });
    const second = await sweep();
    expect(second.events[0]).toMatchObject({ type: 'start', resumed: 3 + 2 + 1 }); // trial-rungs of trials 0-2;
    expect(second.study.status).toBe('complete');
    expect(second.study.trials.map((t) => [t.state, t.trained])).toEqual([
      ['complete', 9],
      ['pruned', 3],
      ['pruned', 1],
      ['complete', 9],
      ['pruned', 1],
      ['pruned', 1],
    ]);
    // Trial 3 started twice (its interrupted run left no cache entry); nothing else repeated.
    expect([count('fit:start'), count('fit')]).toEqual([7, 2]);
    expect(second.study.compute).toEqual({ budgetUsed: 24, budgetComputed: 24, budgetFull: 54 });
  });

  it('is deterministic for a seed (random sampler, one trial at a time)', async () => {
    const random = `seed: 7
trials: 6
params:
  curve: { type: uniform, low: 0, high: 1 }
objective: { stage: fit, metric: validation.accuracy@last, direction: maximize }
pruner: { type: asha, mode: single-run, eta: 2, minBudget: 2, maxBudget: 8 }
`;
    const a = await setup(random).sweep();
    const b = await setup(random).sweep();
    expect(a.study.trials.map((t) => t.params)).toEqual(b.study.trials.map((t) => t.params));
    expect(summary(a.study.trials)).toEqual(summary(b.study.trials));
    expect(a.study.compute).toEqual(b.study.compute);
    expect(a.study.trials.some((t) => t.state === 'pruned')).toBe(true);
  });
});
