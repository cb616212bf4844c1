// Times magnitude pruning on full-size VGG-19 (20,024,000 weights) from the built packages:
// `npx tsc -b packages/pruner && node packages/pruner/bench/vgg19.mjs`.
import { createRequire } from 'module';
const require = createRequire(import.meta.url);
const { initWeights } = require('@lth/models');
const { magnitudePrune, randomMaskLike } = require('@lth/pruner');

const time = (label, f) => {
  const t0 = performance.now();
  const r = f();
  console.log(`${label}: ${((performance.now() - t0) / 1000).toFixed(2)} s`);
  return r;
};
const w = time('initWeights(vgg19)', () => initWeights({ arch: 'vgg19', options: {} }, 0));
const n = w.tensors.filter((t) => ['conv', 'fc', 'output', 'shortcut'].includes(t.role)).reduce((a, t) => a + t.values.length, 0);
console.log(`prunable weights: ${n}`);
let r = time('global conv 20%, round 1 (dense)', () => magnitudePrune(w, { scope: 'global', roles: ['conv'], rate: 0.2 }));
r = time('global conv 20%, round 2', () => magnitudePrune(w, { scope: 'global', roles: ['conv'], rate: 0.2 }, r.mask));
time('global conv one-shot to 1.5%', () => magnitudePrune(w, { scope: 'global', roles: ['conv'], target: 0.015 }));
time('layerwise conv 20%', () => magnitudePrune(w, { scope: 'layerwise', rate: { conv: 0.2 } }));
time('random mask like round 2', () => randomMaskLike(r.mask, 1));
console.log(`kept after 2 rounds: ${r.sparsity.meta.remaining} of ${r.sparsity.meta.total}`);
