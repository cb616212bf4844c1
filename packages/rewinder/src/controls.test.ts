import { isPrunable, type MaskBundle } from '@lth/artifacts';
import { initWeights } from '@lth/models';
import { randomReinit, resetWeights } from './index';

// The random-reinit control must never be the ticket it controls for. Its draw used to come
// from the same per-tensor streams as w0, so a pipeline whose reinit seed equalled its w0 seed
// (seed 1, round 1 in the paper pipelines) trained the reset ticket twice and called one of
// them the control. Every (w0 seed, reinit seed, round) combination below must differ on every
// drawn tensor, at every kept weight position checked.
describe('random reinit is independent of w0', () => {
  const ref = { arch: 'lenet_300_100', options: {} };
  const seeds = [0, 1, 2, 3, 4, 5];
  const rounds = [1, 2, 3, 4, 5];
  const w0s = seeds.map((s) => initWeights(ref, s));

  /** A mask keeping every other weight of each prunable tensor, marked as the given round. */
  function maskFor(round: number): MaskBundle {
    return {
      meta: { content: 'mask', model: ref, info: { round, rule: 'magnitude' } },
      tensors: (w0s[0] as ReturnType<typeof initWeights>).tensors
        .filter((t) => isPrunable(t.role))
        .map((t) => ({ name: t.name, role: t.role, shape: [...t.shape], values: Uint8Array.from(t.values, (_, i) => (i % 2 === 0 ? 1 : 0)) })),
    };
  }

  it('for seeds 0..5 x rounds 1..5, no reinit equals the reset ticket on any drawn tensor', () => {
    let compared = 0;
    for (const round of rounds) {
      const mask = maskFor(round);
      const tickets = w0s.map((w0) => resetWeights(w0, mask));
      for (const reinitSeed of seeds) {
        const control = randomReinit(mask, reinitSeed);
        expect(control.meta.info).toMatchObject({ stream: { purpose: 'reinit', seed: reinitSeed, round } });
        for (const ticket of tickets) {
          for (const t of ticket.tensors) {
            if (!isPrunable(t.role)) continue; // biases are 0 in both by definition
            const c = control.tensors.find((x) => x.name === t.name)?.values as Float32Array;
            let equalKept = 0;
            for (let i = 0; i < t.values.length; i += 2) if (c[i] === t.values[i]) equalKept++;
            // Independent Gaussian draws agree on no position (float32 collisions are ~1e-7 rare).
            expect(equalKept).toBeLessThanOrEqual(1);
            compared++;
          }
        }
      }
    }
    expect(compared).toBe(rounds.length * seeds.length * seeds.length * 3);
  });

  it('gives each round its own draw, and the same draw for the same (seed, round)', () => {
    const a = randomReinit(maskFor(1), 1).tensors[0]?.values as Float32Array;
    const b = randomReinit(maskFor(2), 1).tensors[0]?.values as Float32Array;
    expect(randomReinit(maskFor(1), 1).tensors[0]?.values).toEqual(a);
    expect(a.some((v, i) => v !== 0 && v === b[i])).toBe(false);
    // An explicit round overrides the mask's.
    expect(randomReinit(maskFor(2), 1, 1).tensors[0]?.values).toEqual(a);
  });
});
