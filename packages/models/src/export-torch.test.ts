import { spawnSync } from 'child_process';
import { promises as fs } from 'fs';
import * as os from 'os';
import * as path from 'path';
import { createRng, ensureBackend, tf } from '@lth/compute';
import type { ModelRef } from '@lth/artifacts';
import { createModel } from './model';
import { randomMask } from './__tests__/random-mask';
import { initWeights } from './init';
import { exportModel } from './export-files';

// Debian's python3-torch: the round trip runs where /usr/bin/python3 imports torch.
const PYTHON = '/usr/bin/python3';
const torchMissing = ((): string | undefined => {
  const r = spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8' });
  if (r.error) return `${PYTHON} cannot run (${r.error.message})`;
  return r.status === 0 ? undefined : `${PYTHON} has no torch (apt-get install python3-torch)`;
})();
const torchTest = torchMissing ? test.skip : test;

jest.setTimeout(300000);

const REFS: ModelRef[] = [
  { arch: 'lenet_300_100', options: {} },
  { arch: 'conv2', options: { width: 8, dropout: 0.5 } },
  { arch: 'conv4', options: { width: 4 } },
  { arch: 'vgg19', options: { width: 4 } },
  { arch: 'resnet18', options: { width: 4 } },
];

/** Loads model.safetensors with the generated model.py (strict state_dict) and prints the logits of x. */
const LOGITS_PY = `
import importlib.util, json, sys, torch
d, n, h, w, c = sys.argv[1], *map(int, sys.argv[2:6])
spec = importlib.util.spec_from_file_location("exported", d + "/model.py")
mod = importlib.util.module_from_spec(spec); spec.loader.exec_module(mod)
net, meta = mod.load(d + "/model.safetensors")
x = torch.frombuffer(bytearray(open(d + "/x.bin", "rb").read()), dtype=torch.float32).reshape(n, h, w, c)
with torch.no_grad():
    y = net(x.permute(0, 3, 1, 2).contiguous())
masks = {k: int(v.sum()) for k, v in net.state_dict().items() if k.endswith("_mask")}
zeros = all(int((net.state_dict()[k[:-5]] * (1 - v.long())).abs().gt(0).sum()) == 0 for k, v in net.state_dict().items() if k.endswith("_mask"))
print(json.dumps({"logits": y.flatten().tolist(), "meta": meta, "masks": masks, "prunedAreZero": zeros}))
`;

let dir: string;
beforeAll(async () => {
  await ensureBackend();
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'lth-export-torch-'));
});
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

describe.each(REFS)('safetensors export of $arch $options', (ref) => {
  torchTest(
    `PyTorch runs the generated module on the file and gets our eval-mode logits within 1e-4${torchMissing ? ` (skipped: ${torchMissing})` : ''}`,
    async () => {
      const rng = createRng('test', 'torch-x');
      const model = createModel(initWeights(ref, 3));
      const [h, w, c] = model.spec.input;
      const n = 4;
      const xs = Float32Array.from({ length: n * h * w * c }, () => rng.normal());
      const x = tf.tensor4d(xs, [n, h, w, c]);
      // Training-mode passes move the batch-norm running stats off 0 / 1, so their layout is tested.
      for (let i = 0; i < 2; i++) model.apply(x, { training: true, rng }).dispose();
      const weights = model.toBundle('trained', { iteration: 2 });
      const mask = randomMask(weights, 5, 0.4);
      model.applyMask(mask);
      const expected = model.apply(x, { training: false });
      const want = expected.dataSync() as Float32Array;
      const out = path.join(dir, ref.arch);
      await exportModel(
        {
          weights,
          mask,
          normalization: { mean: Array(c).fill(0.5), std: Array(c).fill(0.25) },
          provenance: { pipeline: 'p', stage: 's', cacheKey: 'k', seed: 3 },
        },
        { format: 'safetensors', dir: out },
      );
      await fs.writeFile(path.join(out, 'x.bin'), new Uint8Array(xs.buffer));
      const r = spawnSync(PYTHON, ['-c', LOGITS_PY, out, String(n), String(h), String(w), String(c)], { encoding: 'utf8', maxBuffer: 64 << 20 });
      expect(r.stderr).not.toMatch(/Error/);
      expect(r.status).toBe(0);
      const got = JSON.parse(r.stdout) as { logits: number[]; meta: Record<string, string>; masks: Record<string, number>; prunedAreZero: boolean };
      expect(got.logits).toHaveLength(want.length);
      let maxDiff = 0;
      got.logits.forEach((v, i) => (maxDiff = Math.max(maxDiff, Math.abs(v - want[i]!))));
      expect(maxDiff).toBeLessThan(1e-4);
      // The mask reached PyTorch as buffers (kept counts per weight) and pruned weights are 0.
      for (const m of mask.tensors) expect(got.masks[`${m.name}_mask`]).toBe(m.values.reduce((a, v) => a + v, 0));
      expect(got.prunedAreZero).toBe(true);
      expect(JSON.parse(got.meta['lth.provenance']!)).toMatchObject({ pipeline: 'p', stage: 's', cacheKey: 'k', seed: 3, content: 'trained', iteration: 2 });
      expect(JSON.parse(got.meta['lth.input']!)).toEqual({ layout: 'NCHW', shape: [c, h, w] });
      tf.dispose([x, expected]);
      model.dispose();
    },
  );
});
