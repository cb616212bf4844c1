import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readArtifact } from '@lth/artifacts';
import { lth, tempDir, writeFile } from './__tests__/harness';

// What a researcher writes to get error bars: the seeds once, in the pipeline file, and one
// `lth run` that produces one report over all of them.
const PIPELINE = `name: multi-seed
params: { seed: 0, rounds: 2, iterations: 6 }
matrix:
  seed: [0, 1, 2]
stages:
  data:
    uses: data/load
    with: { dataset: synthetic_mnist, validation: 60, seed: 0, subset: 120 }
  init:
    uses: models/init
    with: { arch: lenet_300_100, seed: "\${params.seed}" }
  dense:
    uses: trainer/train
    inputs: { weights: init, data: data }
    with: &train { iterations: "\${params.iterations}", batchSize: 20, evalEvery: 3, evalBatchSize: 100, trainEvalExamples: 40, seed: "\${params.seed}" }
  round:
    foreach: { r: "1..\${params.rounds}", init: { train: dense } }
    stages:
      prune:
        uses: pruner/magnitude
        inputs: { weights: "\${prev}.train.weights", mask: "\${prev}.prune.mask" }
        with: { scope: layerwise, rate: { fc: 0.2, output: 0.1 } }
      reset: { uses: rewinder/reset, inputs: { weights: init, mask: prune.mask } }
      train: { uses: trainer/train, inputs: { weights: reset, data: data, mask: prune.mask }, with: *train }
      reinit: { uses: rewinder/random-reinit, inputs: { mask: prune.mask }, with: { seed: "\${params.seed}" } }
      control: { uses: trainer/train, inputs: { weights: reinit, data: data, mask: prune.mask }, with: *train }
  report:
    uses: report/lottery
    over: [seed]
    inputs:
      tickets: "round[*].train.metrics"
      dense: dense.metrics
      ticketSparsity: "round[*].prune.sparsity"
      reinit: "round[*].control.metrics"
    with: { title: "three seeds", params: "\${params}", seeds: "\${matrix.runs}", rate: 0.2 }
`;

jest.setTimeout(300000);

describe('lth run of a pipeline with a seed matrix', () => {
  it('trains every seed once, shares the dataset, and writes one report with error bars over 3 seeds', async () => {
    const dir = tempDir();
    const file = writeFile(dir, 'multi.yaml', PIPELINE);
    const cache = join(dir, 'cache');
    const env = {};
    const r = await lth(['run', file, '--cache-dir', cache, '--in-process', '--json'], env);
    expect(r.err).toMatch(/ 0 failed/);
    expect(r.code).toBe(0);
    const rec = JSON.parse(r.out) as { stages: { id: string; status: string; outputs: Record<string, string> }[] };
    const ids = rec.stages.map((s) => s.id);
    expect(ids.filter((id) => /(^|\/)data$/.test(id))).toEqual(['data']);
    expect(ids.filter((id) => id.endsWith('/dense')).sort()).toEqual(['seed=0/dense', 'seed=1/dense', 'seed=2/dense']);
    expect(rec.stages.every((s) => s.status === 'ran')).toBe(true);
    const report = rec.stages.find((s) => s.id === 'report');
    const table = readArtifact(report?.outputs['summary'] as string, 'table');
    const ticket2 = table.rows.find((row) => row['variant'] === 'winning ticket' && row['round'] === 2);
    expect(ticket2).toMatchObject({ seeds: 3 });
    const [lo, mean, hi] = [ticket2?.['testAccuracyMin'], ticket2?.['testAccuracy'], ticket2?.['testAccuracyMax']] as number[];
    expect(lo).toBeLessThanOrEqual(mean as number);
    expect(mean).toBeLessThanOrEqual(hi as number);
    expect(typeof ticket2?.['testAccuracyStd']).toBe('number');
    const reinit1 = table.rows.find((row) => row['variant'] === 'random reinit' && row['round'] === 1);
    expect(reinit1).toMatchObject({ seeds: 3 });
    // The report stage's log names its files where they are after the run (not a staging path).
    const wrote = r.err.match(/report\/lottery: \d+ summary rows, wrote (.+)/)?.[1]?.split(', ') ?? [];
    expect(wrote.length).toBeGreaterThanOrEqual(2);
    for (const f of wrote) {
      expect(f.startsWith(join(cache, 'entries'))).toBe(true);
      expect(existsSync(f)).toBe(true);
    }
    const md = readFileSync(join(report?.outputs['summary'] as string, '..', 'files', 'report.md'), 'utf8');
    expect(md).toContain('three seeds');
    // A second run is all cache hits; one more seed computes only that seed's stages.
    const again = await lth(['run', file, '--cache-dir', cache, '--in-process', '--json', '--set', 'params.seed=[0,1,2,3]'], env);
    expect(again.code).toBe(0);
    const rec2 = JSON.parse(again.out) as { stages: { id: string; status: string }[] };
    const ran = rec2.stages.filter((s) => s.status === 'ran').map((s) => s.id);
    expect(ran.filter((id) => !id.startsWith('seed=3/')).sort()).toEqual(['report']);
    expect(rec2.stages.filter((s) => s.id.startsWith('seed=0/')).every((s) => s.status === 'cached')).toBe(true);
  });
});
