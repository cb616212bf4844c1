import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnLth, tempDir, waitFor, writeFile, type Spawned } from './__tests__/harness';
import { REDIS_SERVER, startRedis } from './__tests__/redis';

// The real stages (data, models, trainer, pruner, rewinder) through two `lth worker`s, each
// with its own working directory and local cache, sharing a file:// remote store: a 2-round
// lottery-ticket pipeline on the synthetic dataset gives the keys and artifact bytes of a
// local run, each stage computed once.
jest.setTimeout(300_000);

const PIPELINE = `name: real
stages:
  data: { uses: data/load, with: { dataset: synthetic_mnist, validation: 60, seed: 0, subset: 120 } }
  init: { uses: models/init, with: { arch: lenet_300_100, seed: 0 } }
  dense:
    uses: trainer/train
    inputs: { weights: init, data: data }
    with: &train { iterations: 4, batchSize: 20, evalEvery: 2, evalBatchSize: 100, trainEvalExamples: 40, seed: 0 }
  round:
    foreach: { r: "1..2", init: { train: dense } }
    stages:
      prune:
        uses: pruner/magnitude
        inputs: { weights: "\${prev}.train.weights", mask: "\${prev}.prune.mask" }
        with: { scope: layerwise, rate: { fc: 0.2, output: 0.1 } }
      reset: { uses: rewinder/reset, inputs: { weights: init, mask: prune.mask } }
      train: { uses: trainer/train, inputs: { weights: reset, data: data, mask: prune.mask }, with: *train }
`;

type Stage = { id: string; status: string; cacheKey: string; outputs: Record<string, string>; worker?: string };
const sha = (f: string) => createHash('sha256').update(readFileSync(f)).digest('hex');
const fingerprint = (stages: Stage[]) => stages.map((s) => [s.id, s.cacheKey, Object.fromEntries(Object.entries(s.outputs).map(([p, f]) => [p, sha(f)]))]);

(REDIS_SERVER ? describe : describe.skip)('real stages on two workers', () => {
  it('a 2-round pipeline on synthetic data: same keys and bytes as a local run, each stage once, then all hits elsewhere', async () => {
    const redis = await startRedis();
    const root = tempDir();
    const env = { LTH_BACKEND: 'cpu' };
    const remote = `file://${join(root, 'remote')}`;
    const file = writeFile(root, 'real.yaml', PIPELINE);
    const workers: Spawned[] = [];
    try {
      for (const name of ['w1', 'w2']) {
        mkdirSync(join(root, name));
        workers.push(spawnLth(['worker', '--queue', redis.url, '--remote', remote, '--concurrency', '1'], env, join(root, name)));
      }
      await waitFor(() => workers.every((w) => w.err().includes(' ready: ')), 'the workers to connect', 120_000);
      mkdirSync(join(root, 'c1'));
      const local = spawnLth(['run', file, '--json', '--jobs', '2', '--cache-dir', join(root, 'local')], env, root);
      const queued = spawnLth(['run', file, '--json', '--queue', redis.url, '--remote', remote], env, join(root, 'c1'));
      const [el, eq] = await Promise.all([local.exit, queued.exit]);
      expect([el.code, eq.code, queued.err()]).toEqual([0, 0, expect.stringContaining('9 ran')]);
      const got = JSON.parse(queued.out()).stages as Stage[];
      expect(fingerprint(got)).toEqual(fingerprint(JSON.parse(local.out()).stages));
      // Each stage was computed by exactly one worker.
      const ran = workers.flatMap((w) => [...w.err().matchAll(/^(\S+) \(\S+, \w{12}\): running$/gm)].map((m) => m[1]));
      expect(ran.sort()).toEqual(got.map((s) => s.id).sort());
      // A third machine: all cache hits from the remote store.
      mkdirSync(join(root, 'c2'));
      const third = spawnLth(['run', file, '--json', '--queue', redis.url, '--remote', remote], env, join(root, 'c2'));
      expect((await third.exit).code).toBe(0);
      expect((JSON.parse(third.out()).stages as Stage[]).map((s) => s.status)).toEqual(got.map(() => 'cached'));
    } finally {
      for (const w of workers) process.kill(-(w.child.pid as number), 'SIGKILL');
      await redis.stop();
    }
  });
});
