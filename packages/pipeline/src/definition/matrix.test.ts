import { PipelineError, planFromText, type Plan } from '../index';
import { stagePackagesRegistry } from '../__tests__/helpers';

const registry = stagePackagesRegistry();

const LOTTERY = `name: multi
params: { seed: 0, lr: 0.0012, rounds: 2, iterations: 10 }
matrix:
  seed: [0, 1, 2]
stages:
  data:
    uses: data/load
    with: { dataset: synthetic_mnist, validation: 100, seed: 0 }
  init:
    uses: models/init
    with: { arch: lenet_300_100, seed: "\${params.seed}" }
  dense:
    uses: trainer/train
    inputs: { weights: init, data: data }
    with: &train { iterations: "\${params.iterations}", seed: "\${params.seed}", optimizer: { type: adam, lr: "\${params.lr}" } }
  round:
    foreach: { r: "1..\${params.rounds}", init: { train: dense } }
    stages:
      prune:
        uses: pruner/magnitude
        inputs: { weights: "\${prev}.train.weights", mask: "\${prev}.prune.mask" }
        with: { scope: layerwise, rate: { fc: 0.2, output: 0.1 } }
      reset: { uses: rewinder/reset, inputs: { weights: init, mask: prune.mask } }
      train:
        uses: trainer/train
        inputs: { weights: reset, data: data, mask: prune.mask }
        with: *train
  report:
    uses: report/lottery
    over: [seed]
    inputs: { tickets: "round[*].train.metrics", dense: dense.metrics }
    with: { seeds: "\${matrix.runs}", params: "\${params}", title: "seeds \${params.seed}" }
`;

function plan(text: string, sets: string[] = []): Plan {
  return planFromText('p.yaml', text, { registry, sets });
}

function errorsOf(text: string, sets: string[] = []): string[] {
  try {
    plan(text, sets);
  } catch (err) {
    if (err instanceof PipelineError) return err.message.split('\n');
    throw err;
  }
  throw new Error('expected the pipeline to be invalid');
}

describe('matrix: several seeds (or any params) in one pipeline', () => {
  it('expands each seed, shares what does not depend on it, and gathers the report across seeds', () => {
    const p = plan(LOTTERY);
    const ids = p.nodes.map((n) => n.id);
    expect(p.matrix).toEqual({ seed: [0, 1, 2] });
    // The dataset does not depend on the seed: one stage.
    expect(ids.filter((id) => id.endsWith('data'))).toEqual(['data']);
    for (const s of [0, 1, 2]) {
      expect(ids).toContain(`seed=${s}/init`);
      expect(ids).toContain(`seed=${s}/round[2].train`);
      const init = p.nodes.find((n) => n.id === `seed=${s}/init`);
      expect((init?.config as { seed: number }).seed).toBe(s);
      const reset = p.nodes.find((n) => n.id === `seed=${s}/round[1].reset`);
      expect(reset?.inputs['weights']).toEqual({ stage: `seed=${s}/init`, port: 'weights' });
      expect(p.nodes.find((n) => n.id === `seed=${s}/dense`)?.inputs['data']).toEqual({ stage: 'data', port: 'dataset' });
    }
    expect(ids).toHaveLength(1 + 3 * (2 + 2 * 3) + 1);
    const report = p.nodes.find((n) => n.id === 'report');
    // Seed-major: every round of seed 0, then of seed 1, then of seed 2.
    expect((report?.inputs['tickets'] as { stage: string }[]).map((b) => b.stage)).toEqual([
      'seed=0/round[1].train',
      'seed=0/round[2].train',
      'seed=1/round[1].train',
      'seed=1/round[2].train',
      'seed=2/round[1].train',
      'seed=2/round[2].train',
    ]);
    expect((report?.inputs['dense'] as { stage: string }[]).map((b) => b.stage)).toEqual(['seed=0/dense', 'seed=1/dense', 'seed=2/dense']);
    expect(report?.config).toMatchObject({ seeds: 3, title: 'seeds [0,1,2]', params: { seed: [0, 1, 2], lr: 0.0012 } });
    // Every stage comes after its inputs.
    const at = new Map(ids.map((id, i) => [id, i]));
    for (const n of p.nodes) for (const d of n.deps) expect(at.get(d)).toBeLessThan(at.get(n.id) as number);
  });

  it('seed x lr: a stage is prefixed with exactly the axes it depends on; the report is one per lr', () => {
    const p = plan(LOTTERY.replace('  seed: [0, 1, 2]', '  seed: [0, 1]\n  lr: [0.001, 0.002]'));
    const ids = p.nodes.map((n) => n.id);
    expect(ids).toContain('seed=0/init'); // init does not use lr
    expect(ids).not.toContain('seed=0,lr=0.001/init');
    expect(ids).toContain('seed=1,lr=0.002/dense');
    expect(ids.filter((id) => id.endsWith('report')).sort()).toEqual(['lr=0.001/report', 'lr=0.002/report']);
    const r = p.nodes.find((n) => n.id === 'lr=0.002/report');
    expect((r?.inputs['dense'] as { stage: string }[]).map((b) => b.stage)).toEqual(['seed=0,lr=0.002/dense', 'seed=1,lr=0.002/dense']);
    expect(r?.config).toMatchObject({ seeds: 2, params: { seed: [0, 1], lr: 0.002 } });
  });

  it('--set on an axis runs that value alone, with the ids of a one-seed pipeline', () => {
    const p = plan(LOTTERY, ['params.seed=1']);
    expect(p.matrix).toEqual({ seed: [1] });
    expect(p.nodes.map((n) => n.id)).toContain('init');
    expect((p.nodes.find((n) => n.id === 'init')?.config as { seed: number }).seed).toBe(1);
    expect(p.nodes.find((n) => n.id === 'report')?.config).toMatchObject({ seeds: 1 });
  });

  it('--set with a list on an axis sets its values', () => {
    const p = plan(LOTTERY, ['params.seed=[4, 7]']);
    expect(p.matrix).toEqual({ seed: [4, 7] });
    expect(p.nodes.map((n) => n.id)).toEqual(expect.arrayContaining(['seed=4/init', 'seed=7/init']));
    expect(p.nodes.find((n) => n.id === 'report')?.config).toMatchObject({ seeds: 2 });
    expect(errorsOf(LOTTERY, ['params.seed=[]'])).toEqual(["(command line):1:1: --set params.seed: matrix axis 'seed' needs at least one value"]);
  });

  it('says what is wrong with a matrix or an over', () => {
    expect(errorsOf(LOTTERY.replace('  seed: [0, 1, 2]', '  sed: [0, 1]'))).toEqual([
      "p.yaml:4:3: matrix.sed: 'sed' is not a param; a matrix axis varies a param (params: seed, lr, rounds, iterations)",
    ]);
    expect(errorsOf(LOTTERY.replace('  seed: [0, 1, 2]', '  seed: [0, 0]'))).toEqual(['p.yaml:4:13: matrix.seed[1]: value 0 appears twice in matrix.seed']);
    expect(errorsOf(LOTTERY.replace('over: [seed]', 'over: [lr]'))[0]).toMatch(/stages\.report\.over: 'lr' is not a matrix axis; axes: seed/);
    expect(errorsOf(LOTTERY.replace('matrix:\n  seed: [0, 1, 2]\n', ''))).toEqual([
      "p.yaml:28:11: stages.report.over: 'over' collects across the matrix, and this pipeline has no 'matrix:'",
    ]);
    // A single (non-list) input cannot gather several seeds' artifacts.
    const single = LOTTERY.replace(
      '  report:\n',
      '  gathered:\n    uses: rewinder/reset\n    over: [seed]\n    inputs: { weights: init, mask: "round[1].prune.mask" }\n  report:\n',
    );
    expect(errorsOf(single)).toEqual([
      "p.yaml:31:24: stages.gathered.inputs.weights: input 'weights' of rewinder/reset takes one artifact, but its reference differs across seed (seed=0/init.weights, seed=1/init.weights, seed=2/init.weights, ...): only list ports gather across the matrix",
      "p.yaml:31:36: stages.gathered.inputs.mask: input 'mask' of rewinder/reset takes one artifact, but its reference differs across seed (seed=0/round[1].prune.mask, seed=1/round[1].prune.mask, seed=2/round[1].prune.mask, ...): only list ports gather across the matrix",
    ]);
  });
});
