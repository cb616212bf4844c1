import { packCheckpoints, type MaskBundle } from '@lth/artifacts';
import { applyMask, resetWeights } from './index';
import { mask, model, weights } from './__tests__/fixtures';

describe('resetWeights', () => {
  it('resets survivors to w0, zeroes the pruned weights exactly, copies the rest', () => {
    const w0 = weights('init', [1, -2, 3, 4]);
    const r = resetWeights(w0, mask);
    expect(r.meta).toMatchObject({ content: 'rewound', iteration: 0, seed: 3, model, info: { from: 'init', round: 2 } });
    expect(Array.from(r.tensors[0]?.values ?? [])).toEqual([1, 0, 0, 4]);
    expect(Object.is(r.tensors[0]?.values[1], 0)).toBe(true); // +0, not -2 * 0 = -0
    expect(Array.from(r.tensors[1]?.values ?? [])).toEqual([5, 6]);
    expect(Array.from(r.tensors[2]?.values ?? [])).toEqual([0.5]);
    // inputs untouched, outputs are copies
    expect(Array.from(w0.tensors[0]?.values ?? [])).toEqual([1, -2, 3, 4]);
    expect(r.tensors[1]?.values).not.toBe(w0.tensors[1]?.values);
  });

  const ckpts = packCheckpoints(model, [
    { iteration: 500, bundle: weights('checkpoint', [10, 20, 30, 40], [7, 8]) },
    { iteration: 0, bundle: weights('checkpoint', [1, 2, 3, 4]) },
  ]);

  it('rewinds to w_k from a checkpoint bundle', () => {
    const r = resetWeights(ckpts, mask, { iteration: 500 });
    expect(r.meta).toMatchObject({ content: 'rewound', iteration: 500, info: { from: 'checkpoint' } });
    expect(r.tensors.map((t) => Array.from(t.values))).toEqual([[10, 0, 0, 40], [7, 8], [0.5]]);
    expect(r.tensors.map((t) => t.name)).toEqual(['fc.weight', 'fc.bias', 'bn.mean']);
    expect(resetWeights(ckpts, mask, { iteration: 0 }).tensors[0]?.values).toEqual(Float32Array.from([1, 0, 0, 4]));
  });

  it('says what is wrong with the source or the iteration', () => {
    expect(() => resetWeights(ckpts, mask)).toThrow("rewinder/reset: 'weights' is a checkpoint bundle (iterations 0, 500); set config.iteration");
    expect(() => resetWeights(ckpts, mask, { iteration: 100 })).toThrow('rewinder/reset: config.iteration: no checkpoint at iteration 100 (saved: 0, 500)');
    expect(() => resetWeights(weights('init', [1, 2, 3, 4]), mask, { iteration: 500 })).toThrow(
      "'weights' is an init bundle (w0); rewinding to w_500 needs the trainer's checkpoint bundle",
    );
    expect(() => resetWeights(weights('trained', [1, 2, 3, 4]), mask)).toThrow("'weights' holds 'trained' weights");
  });

  it('says which mask tensor does not fit', () => {
    const w0 = weights('init', [1, 2, 3, 4]);
    const t = mask.tensors[0] as MaskBundle['tensors'][number];
    expect(() => resetWeights(w0, { ...mask, tensors: [{ ...t, shape: [4, 1] }] })).toThrow("mask tensor 'fc.weight' has shape [4,1], weights have [2,2]");
    expect(() => resetWeights(w0, { ...mask, tensors: [] })).toThrow("mask has no tensor 'fc.weight' (role fc)");
    expect(() => resetWeights(w0, { ...mask, tensors: [t, { ...t, name: 'other' }] })).toThrow("mask tensor 'other' is not a prunable tensor");
    expect(() => resetWeights(w0, { ...mask, tensors: [{ ...t, values: Uint8Array.from([1, 2, 0, 1]) }] })).toThrow(
      "mask tensor 'fc.weight' has value 2 at flat index 1",
    );
    expect(() => resetWeights(w0, { ...mask, meta: { ...mask.meta, model: { arch: 'lenet_300_100', options: {} } } })).toThrow(
      "mask is for model 'lenet_300_100', weights are for 'toy'",
    );
    expect(() => applyMask(w0, { ...mask, meta: { ...mask.meta, content: 'init' } } as MaskBundle, 'here')).toThrow(
      "here: 'mask' holds 'init' tensors, not a mask",
    );
  });
});
