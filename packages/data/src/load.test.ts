import { loadDataset, SYNTHETIC_SHAPES } from './load';

describe('loadDataset: synthetic stand-ins and subset', () => {
  it.each(Object.entries(SYNTHETIC_SHAPES))('%s has the real dataset shape %j', async (name, shape) => {
    const ds = await loadDataset({ dataset: name as keyof typeof SYNTHETIC_SHAPES, validation: 20, seed: 1 });
    expect(ds.meta.name).toBe(name);
    expect(ds.meta.shape).toEqual(shape);
    expect(ds.meta.splits.validation.count).toBe(20);
    expect(ds.images.length).toBe(ds.labels.length * shape[0] * shape[1] * shape[2]);
  });

  it('subset null keeps every training example, a number keeps the first N', async () => {
    const all = await loadDataset({ dataset: 'synthetic_mnist', validation: 10, seed: 0, subset: null });
    const some = await loadDataset({ dataset: 'synthetic_mnist', validation: 10, seed: 0, subset: 30 });
    expect(all.meta.splits.train.count).toBe(240);
    expect(some.meta.splits.train.count).toBe(30);
    expect(Array.from(some.labels.subarray(0, 30))).toEqual(Array.from(all.labels.subarray(0, 30)));
  });
});
