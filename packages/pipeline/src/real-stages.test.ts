import { join } from 'node:path';
import { plainContext, readArtifact, writeArtifact } from '@lth/artifacts';
import { initStage } from '@lth/models';
import { loadPipeline } from './index';
import { stagePackagesRegistry, tempDir } from './__tests__/helpers';
import { work } from './__tests__/fixtures/stages';

describe('stages outside the engine, and the real registry', () => {
  it('a stage imported from its package runs as a plain function', async () => {
    const dir = tempDir();
    const out = await initStage.run(plainContext(dir), initStage.config.parse({ arch: 'lenet_300_100', seed: 3 }), {});
    const names = out.weights.tensors.map((t) => t.name);
    expect(names.length).toBeGreaterThanOrEqual(6);
    // and its output is an ordinary artifact
    await writeArtifact(join(dir, 'w.arrow'), 'tensors', out.weights);
    expect(readArtifact(join(dir, 'w.arrow'), 'tensors').tensors.map((t) => t.name)).toEqual(names);
    const t = await work.run(plainContext(dir), work.config.parse({ value: 2 }), {
      a: { meta: { title: 't', columns: [{ name: 'v', type: 'float64' }] }, rows: [{ v: 3 }] },
      b: undefined,
    });
    expect(t.table.rows).toEqual([{ v: 5 }]);
  });

  it('pipelines/quickstart.yaml is valid against the registered stage packages', () => {
    const registry = stagePackagesRegistry();
    const plan = loadPipeline(join(__dirname, '..', '..', '..', 'pipelines', 'quickstart.yaml'), { registry });
    expect(plan.nodes).toHaveLength(4 + 5 * 3);
    const report = plan.nodes.find((n) => n.id === 'report');
    expect(report?.inputs['tickets']).toEqual([1, 2, 3].map((r) => ({ stage: `round[${r}].train`, port: 'metrics' })));
    expect(plan.nodes.find((n) => n.id === 'round[1].prune')?.inputs).toEqual({ weights: { stage: 'dense', port: 'weights' } });
    expect(plan.nodes.find((n) => n.id === 'round[2].prune')?.inputs).toEqual({
      weights: { stage: 'round[1].train', port: 'weights' },
      mask: { stage: 'round[1].prune', port: 'mask' },
    });
  });
});
