// Every search space under pipelines/sweeps/ validates against its pipeline (the file named by
// the space's first name part: sweep-lenet-lr.full.space.yaml -> sweep-lenet-lr.yaml) and the
// real stage packages, so the documented sweeps do not rot. Nothing is trained here.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadPipeline, loadRegistry } from '@lth/pipeline';
import { rungBudgets } from './successive-halving';
import { sampleTrials } from './sampler';
import { checkSpaceAgainst, loadSpace } from './space';

const dir = join(__dirname, '..', '..', '..', 'pipelines', 'sweeps');
const spaces = readdirSync(dir).filter((f) => f.endsWith('.space.yaml'));

// The workspace's stage packages (the CLI's built-in list; the engine has none of its own).
const STAGE_PACKAGES = ['@lth/data', '@lth/models', '@lth/trainer', '@lth/pruner', '@lth/rewinder', '@lth/report', '@lth/analysis'];

describe('pipelines/sweeps/', () => {
  const registry = loadRegistry({ modules: STAGE_PACKAGES });
  it('loads every stage package', () => expect(registry.problems()).toEqual([]));
  it('has spaces', () => expect(spaces.length).toBeGreaterThan(0));
  it.each(spaces)('%s validates against its pipeline', (f) => {
    const loaded = loadSpace(join(dir, f));
    const plan = loadPipeline(join(dir, `${f.split('.')[0]}.yaml`), { registry });
    expect(checkSpaceAgainst(loaded, plan)).toBe('metrics');
    expect(sampleTrials(loaded.space)).toHaveLength(loaded.space.trials ?? 10);
    const p = loaded.space.pruner;
    if (p.type !== 'none') expect(rungBudgets(p.minBudget as number, p.maxBudget as number, p.eta)).toEqual([100, 300, 900]);
  });
});
