import { isPrunable, type MaskBundle } from '@lth/artifacts';
import { initWeights, reinitWeights } from '@lth/models';
import { randomReinit, resetWeights } from './index';
import { randomMask } from './__tests__/fixtures';

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

describe('randomReinit', () => {
  const ref = { arch: 'lenet_300_100', options: {} };
  const w0 = initWeights(ref, 0);
  const m = randomMask(w0, 0.3, 1);

  it('is a fresh Glorot draw from the reinit stream of (seed, mask round) under the same mask, unlike w0', () => {
    const r = randomReinit(m, 7);
    expect(r.meta).toMatchObject({ content: 'reinit', model: ref, seed: 7, iteration: 0, info: { round: 1 } });
    const fresh = reinitWeights(ref, 7, 1);
    for (const [i, t] of r.tensors.entries()) {
      const f = fresh.tensors[i]?.values as Float32Array;
      const mt = m.tensors.find((x) => x.name === t.name);
      if (!mt) {
        expect(t.values).toEqual(f); // biases: copied from the draw
        continue;
      }
      let survivorsSame = 0;
      let differFromW0 = 0;
      let prunedNotZero = 0;
      const w0v = w0.tensors[i]?.values as Float32Array;
      t.values.forEach((v, j) => {
        if (mt.values[j] === 0) prunedNotZero += Object.is(v, 0) ? 0 : 1;
        else {
          if (v === f[j]) survivorsSame++;
          if (v !== w0v[j]) differFromW0++;
        }
      });
      const kept = mt.values.reduce((a, b) => a + b, 0);
      expect(kept).toBeGreaterThan(0);
      expect(prunedNotZero).toBe(0);
      expect(survivorsSame).toBe(kept);
      expect(differFromW0).toBe(kept);
    }
    expect(randomReinit(m, 7).tensors[0]?.values).toEqual(r.tensors[0]?.values);
  });

  it('copies batch norm and buffers from the draw (ResNet)', () => {
    const rref = { arch: 'resnet18', options: { width: 4 } };
    const rm = randomMask(initWeights(rref, 0), 0.5, 2);
    const r = randomReinit(rm, 9);
    const fresh = initWeights(rref, 9);
    const bn = r.tensors.filter((t) => t.role === 'batchnorm' || t.role === 'buffer');
    expect(bn.length).toBeGreaterThan(0);
    for (const t of bn) expect(t.values).toEqual(fresh.tensors.find((x) => x.name === t.name)?.values);
  });

  it('names the model when it cannot initialize it', () => {
    expect(() => randomReinit({ ...m, meta: { ...m.meta, model: { arch: 'nope', options: {} } } }, 1)).toThrow(
      "rewinder/random-reinit: cannot initialize model 'nope'",
    );
  });
});
