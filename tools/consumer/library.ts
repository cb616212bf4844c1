// LeNet-300-100's initial weights w0, 20% of them pruned by magnitude, the mask written as an
// Arrow IPC artifact and read back.
import { readArtifact, writeArtifact } from '@lth/artifacts';
import { initWeights } from '@lth/models/weights'; // the seeded draws, without loading tfjs
import { magnitudePrune } from '@lth/pruner';

async function main(): Promise<void> {
  const w0 = initWeights({ arch: 'lenet_300_100', options: {} }, 0);
  const { mask, sparsity } = magnitudePrune(w0, { scope: 'global', roles: ['fc', 'output'], rate: 0.2 });
  await writeArtifact('mask.arrow', 'tensors', mask);

  const back = readArtifact('mask.arrow', 'tensors');
  let kept = 0;
  let total = 0;
  for (const t of back.tensors) {
    for (const v of t.values) kept += v;
    total += t.values.length;
  }
  console.log(`mask.arrow: ${back.tensors.length} tensors, ${kept} of ${total} weights kept (${(kept / total).toFixed(3)})`);
  console.log(`sparsity: ${sparsity.meta.remaining} of ${sparsity.meta.total} remaining`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
