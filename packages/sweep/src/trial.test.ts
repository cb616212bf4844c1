import { join } from 'node:path';
import { InProcessExecutor, LocalStore, type RunEvent } from '@lth/pipeline';
import { loggingDir, testRegistry, writePipeline } from './__tests__/helpers';
import { spaceFromText } from './space';
import type { TrialRecord } from './state';
import { runTrial, trialSets, type TrialContext } from './trial';

process.env['LTH_BACKEND'] = 'cpu';

// fit (a fake trainer) evaluates at every iteration 0..iterations and reports each evaluation.
const PIPELINE = `name: tr
params: { curve: "1", iterations: 1, fail: false }
stages:
  base: { uses: test/work, with: { value: 1, tag: base, fail: "\${params.fail}" } }
  fit: { uses: test/curve, inputs: { a: base }, with: { curve: "\${params.curve}", iterations: "\${params.iterations}", sleepMs: 1, tag: fit } }
`;
const SPACE = `params:
  curve: { type: choice, values: ["5"] }
  fail: { type: choice, values: [false, true] }
objective: { stage: fit, metric: validation.accuracy@last, direction: maximize }
pruner: { type: asha, mode: single-run, eta: 3, minBudget: 1, maxBudget: 4 }
`;

function setup() {
  const { dir, calls } = loggingDir('lth-trial-');
  const registry = testRegistry();
  const store = new LocalStore(join(dir, 'cache'));
  const pipelineFile = writePipeline(dir, PIPELINE);
  const { space } = spaceFromText('space.yaml', SPACE);
  const study = new AbortController();
  const runEvents: RunEvent[] = [];
  const ctx: TrialContext = {
    pipelineFile,
    registry,
    store,
    executor: new InProcessExecutor(registry, store, 1),
    space,
    budgets: [1, 3, 4],
    metricsPort: 'metrics',
    signal: study.signal,
    trials: [],
    nextSeq: () => 0,
    emit: () => {},
    onRunEvent: (_t, _b, e) => runEvents.push(e),
  };
  const trial = (fail = false): TrialRecord => ({ trial: 0, params: { curve: '5', fail }, state: 'pending', rungs: [] });
  const fitStates = () => runEvents.filter((e) => e.type === 'stage' && e.id === 'fit').map((e) => (e.type === 'stage' ? e.state : ''));
  return { ctx, trial, study, runEvents, fitStates, starts: () => calls().filter((c) => c.tag === 'fit:start').length };
}

describe('trialSets', () => {
  it('sets the swept params as JSON and the budget param, unless pruner none leaves the pipeline its own', () => {
    const { space } = spaceFromText('space.yaml', SPACE);
    const t: TrialRecord = { trial: 0, params: { curve: '5', lr: 0.001, fail: false }, state: 'pending', rungs: [] };
    expect(trialSets(space, t, 3)).toEqual(['params.curve="5"', 'params.lr=0.001', 'params.fail=false', 'params.iterations=3']);
    const none = spaceFromText('space.yaml', SPACE.replace(/pruner: .*/, 'pruner: { type: none }')).space;
    expect(trialSets(none, t, 3)).toEqual(['params.curve="5"', 'params.lr=0.001', 'params.fail=false']);
  });
});

describe('runTrial', () => {
  it('runs the pipeline at the budget and returns the metrics; a second run is a cache hit', async () => {
    const { ctx, trial } = setup();
    const first = await runTrial(ctx, trial(), 3);
    expect(first).toMatchObject({ interrupted: false, stopped: false, ran: 2, cached: 0, objectiveRan: true });
    expect(first.error).toBeUndefined();
    expect(first.metrics?.meta).toMatchObject({ iterations: 3 });
    expect(first.metrics?.rows.filter((r) => r.split === 'validation').map((r) => r.iteration)).toEqual([0, 1, 2, 3]);
    const again = await runTrial(ctx, trial(), 3);
    expect(again).toMatchObject({ interrupted: false, stopped: false, ran: 0, cached: 2, objectiveRan: false });
    expect(again.metrics?.rows).toEqual(first.metrics?.rows);
  });

  it("stops the run alone when onEvent says 'stop': no error, no metrics, no cache entry", async () => {
    const { ctx, trial, fitStates, starts } = setup();
    const seen: number[] = [];
    const stopped = await runTrial(ctx, trial(), 4, (e) => {
      if (e.type !== 'progress' || e.progress.iteration === undefined) return;
      seen.push(e.progress.iteration);
      return e.progress.iteration === 1 ? 'stop' : undefined;
    });
    expect(stopped).toMatchObject({ interrupted: false, stopped: true, objectiveRan: false });
    expect(stopped.error).toBeUndefined();
    expect(stopped.metrics).toBeUndefined();
    // onEvent hears nothing after it stopped the run; the study's listener hears the stage fail.
    expect(seen).toEqual([0, 1]);
    expect(fitStates()).toEqual(['pending', 'running', 'failed']);
    expect(ctx.signal.aborted).toBe(false);
    // The stopped stage left no cache entry: the next run computes it.
    const next = await runTrial(ctx, trial(), 4);
    expect(next).toMatchObject({ stopped: false, objectiveRan: true, cached: 1 });
    expect(starts()).toBe(2);
  });

  it('is interrupted, with nothing to record, when the study is', async () => {
    const { ctx, trial, study } = setup();
    const run = await runTrial(ctx, trial(), 4, (e) => {
      if (e.type === 'progress' && e.progress.iteration === 1) study.abort();
    });
    expect(run).toMatchObject({ interrupted: true, stopped: false });
    expect(run.error).toBeUndefined();
    expect(run.metrics).toBeUndefined();
  });

  it("reports a failed stage's error", async () => {
    const { ctx, trial } = setup();
    const run = await runTrial(ctx, trial(true), 4);
    expect(run).toMatchObject({ interrupted: false, stopped: false, ran: 0, objectiveRan: false });
    expect(run.error).toMatch(/stage 'base' failed: configured to fail/);
    expect(run.metrics).toBeUndefined();
  });
});
