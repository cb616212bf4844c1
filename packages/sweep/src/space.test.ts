import { PipelineError, UsageError, formatDiagnostic, planFromText } from '@lth/pipeline';
import { testRegistry } from './__tests__/helpers';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkSpaceAgainst, spaceFromPipeline, spaceFromText } from './space';

const messages = (fn: () => unknown): string[] => {
  try {
    fn();
  } catch (err) {
    if (err instanceof PipelineError) return err.diagnostics.map(formatDiagnostic);
    throw err;
  }
  throw new Error('expected a PipelineError');
};

const OBJ = 'objective: { stage: m, metric: test.accuracy@last, direction: maximize }';

describe('search space files', () => {
  it('parses params, sampler, objective and pruner with defaults', () => {
    const { space } = spaceFromText(
      's.yaml',
      `trials: 4\nparams:\n  lr: { type: loguniform, low: 1.0e-4, high: 0.1 }\n  n: { type: int, low: 1, high: 9 }\n${OBJ}\npruner: { type: asha, minBudget: 1, maxBudget: 9 }\n`,
    );
    expect(space.sampler).toBe('random');
    expect(space.seed).toBe(0);
    expect(space.parallel).toBe(1);
    expect(space.pruner).toEqual({ type: 'asha', eta: 3, minBudget: 1, maxBudget: 9, budgetParam: 'iterations' });
    expect(space.params['n']).toEqual({ type: 'int', low: 1, high: 9, step: 1 });
  });

  it('reports every problem at file:line:col', () => {
    const text = [
      'trials: 0',
      'sampler: grid',
      'params:',
      '  lr: { type: loguniform, low: 0.1, high: 0.01 }',
      '  act: { type: choise, values: [a] }',
      '  w: { type: uniform, low: 0, high: 1 }',
      'objective: { stage: m, metric: accuracy, direction: up }',
      'pruner: { type: sha, eta: 1 }',
      'extra: 1',
    ].join('\n');
    const errs = messages(() => spaceFromText('s.yaml', text));
    expect(errs).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^s\.yaml:1:9: trials: Too small: expected number to be >0/),
        expect.stringMatching(/^s\.yaml:5:16: params\.act\.type: Invalid discriminator value/),
        expect.stringMatching(/^s\.yaml:7:32: objective\.metric: expected <train\|validation\|test>/),
        expect.stringMatching(/^s\.yaml:7:53: objective\.direction: Invalid option/),
        expect.stringMatching(/^s\.yaml:8:27: pruner\.eta: .*>=2/),
        's.yaml:8:17: pruner.type: sha and asha need minBudget and maxBudget',
        "s.yaml:9:1: extra: unknown field 'extra'",
      ]),
    );
  });

  it('single-run mode needs the asynchronous pruner', () => {
    const text = (type: string) =>
      `params:\n  x: { type: uniform, low: 0, high: 1 }\n${OBJ}\npruner: { type: ${type}, mode: single-run, minBudget: 1, maxBudget: 9 }\n`;
    expect(spaceFromText('s.yaml', text('asha')).space.pruner.mode).toBe('single-run');
    expect(messages(() => spaceFromText('s.yaml', text('sha')))).toEqual([
      expect.stringMatching(/^s\.yaml:4:\d+: pruner\.mode: mode 'single-run' needs type 'asha'/),
    ]);
  });

  it('refuses param names that are columns of trials.arrow', () => {
    expect(messages(() => spaceFromText('s.yaml', `params:\n  state: { type: choice, values: [a] }\n${OBJ}\n`))).toEqual([
      "s.yaml:2:3: params.state: 'state' names a column of trials.arrow; reserved: trial, budget, state, value, error",
    ]);
  });

  it('checks low <= high and grid points after the schema', () => {
    const errs = messages(() =>
      spaceFromText('s.yaml', `sampler: grid\nparams:\n  lr: { type: loguniform, low: 0.1, high: 0.01 }\n  w: { type: uniform, low: 0, high: 1 }\n${OBJ}\n`),
    );
    expect(errs).toEqual([
      's.yaml:3:32: params.lr.low: low (0.1) is above high (0.01)',
      "s.yaml:3:7: params.lr: the grid sampler needs 'points' (how many values) for a loguniform parameter",
      "s.yaml:4:6: params.w: the grid sampler needs 'points' (how many values) for a uniform parameter",
    ]);
  });

  it("reads a pipeline's sweep: block, with errors located in the pipeline file", () => {
    const file = join(mkdtempSync(join(tmpdir(), 'lth-space-')), 'p.yaml');
    const pipeline = (sweep: string) =>
      `name: p\nparams: { x: 1, iterations: 1 }\nstages:\n  w: { uses: test/work }\n  m: { uses: test/collect, inputs: { items: [w] } }\n${sweep}`;
    writeFileSync(file, pipeline(''));
    expect(() => spaceFromPipeline(file)).toThrow(UsageError);
    expect(() => spaceFromPipeline(file)).toThrow(/p\.yaml: no 'sweep:' block; give the search space with --space FILE/);
    // `lth run` accepts (and ignores) the block
    const block = `sweep:\n  params:\n    y: { type: int, low: 1, high: 3 }\n  ${OBJ}\n  pruner: { type: sha, minBudget: 1, maxBudget: 9 }\n`;
    writeFileSync(file, pipeline(block));
    const plan = planFromText(file, pipeline(block), { registry: testRegistry() });
    const loaded = spaceFromPipeline(file);
    expect(loaded.space.pruner).toMatchObject({ type: 'sha', minBudget: 1 });
    expect(messages(() => checkSpaceAgainst(loaded, plan))).toEqual([`${file}:8:5: sweep.params.y: 'y' is not a param of pipeline 'p'; valid: x, iterations`]);
    writeFileSync(file, pipeline(block.replace('high: 3', 'high: 3, bad: 1')));
    expect(messages(() => spaceFromPipeline(file))).toEqual([
      expect.stringMatching(new RegExp(`^${file}:8:\\d+: sweep\\.params\\.y\\.bad: unknown field 'bad'`)),
    ]);
  });

  it('checks the space against the pipeline: params, budget param, objective stage', () => {
    const plan = planFromText(
      'p.yaml',
      'name: p\nparams: { x: 1, iterations: 1 }\nstages:\n  w: { uses: test/work }\n  m: { uses: test/collect, inputs: { items: [w] } }\n',
      { registry: testRegistry() },
    );
    const ok = spaceFromText('s.yaml', `params:\n  x: { type: int, low: 1, high: 3 }\n${OBJ}\npruner: { type: sha, minBudget: 1, maxBudget: 9 }\n`);
    expect(checkSpaceAgainst(ok, plan)).toBe('metrics');
    const bad = spaceFromText(
      's.yaml',
      `params:\n  y: { type: int, low: 1, high: 3 }\n  iterations: { type: int, low: 1, high: 3 }\nobjective: { stage: w, metric: test.accuracy@last, direction: maximize }\npruner: { type: sha, minBudget: 1, maxBudget: 9 }\n`,
    );
    expect(messages(() => checkSpaceAgainst(bad, plan))).toEqual([
      "s.yaml:2:3: params.y: 'y' is not a param of pipeline 'p'; valid: x, iterations",
      "s.yaml:3:3: params.iterations: 'iterations' is the budget param; it cannot also be swept",
      "s.yaml:4:21: objective.stage: stage 'w' (test/work) has no metrics output",
    ]);
  });
});
