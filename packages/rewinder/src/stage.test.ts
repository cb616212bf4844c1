import { mkdtempSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { packCheckpoints, plainContext, readArtifact, writeArtifact } from '@lth/artifacts';
import { initWeights } from '@lth/models';
import { reinitStage, resetStage, stages } from './index';
import { mask, model, randomMask, weights } from './__tests__/fixtures';

describe('stages', () => {
  let dir: string;
  beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'rewinder-'))));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('run as plain functions and write valid artifacts', async () => {
    expect(stages.map((s) => s.id)).toEqual(['rewinder/reset', 'rewinder/random-reinit']);
    const ctx = plainContext(dir, { log: () => {} });
    const ckpts = packCheckpoints(model, [{ iteration: 500, bundle: weights('checkpoint', [10, 20, 30, 40]) }]);
    const cfg = resetStage.config.parse({ iteration: 500 });
    const { weights: r } = await resetStage.run(ctx, cfg, { weights: ckpts, mask });
    await writeArtifact(join(dir, 'rewound.arrow'), 'tensors', r);
    const back = readArtifact(join(dir, 'rewound.arrow'), 'tensors');
    expect(back.meta).toMatchObject({ content: 'rewound', iteration: 500 });
    expect(Array.from(back.tensors[0]?.values ?? [])).toEqual([10, 0, 0, 40]);

    const ref = { arch: 'lenet_300_100', options: {} };
    const m = randomMask(initWeights(ref, 0), 0.5, 3);
    const { weights: ri } = await reinitStage.run(ctx, reinitStage.config.parse({ seed: 4 }), { mask: m });
    expect(ri.meta).toMatchObject({ content: 'reinit', seed: 4 });
    expect(() => reinitStage.config.parse({})).toThrow();
    expect(() => resetStage.config.parse({ iteration: -1 })).toThrow();
  });
});
