// A file of its own: tfjs keeps its backend registry on the global object, so the wasm module
// must never have been loaded in this file's context for the fallback to be observable.
jest.mock('@tensorflow/tfjs-backend-wasm', () => {
  throw new Error('simulated: wasm module missing');
});

import { initBackend, availableBackends, describeBackend, tf } from './index';

describe('backend fallback order', () => {
  const saved = process.env['LTH_BACKEND'];
  afterAll(() => {
    if (saved === undefined) delete process.env['LTH_BACKEND'];
    else process.env['LTH_BACKEND'] = saved;
  });

  it('falls back to cpu when neither tfjs-node nor wasm loads, and says why', async () => {
    delete process.env['LTH_BACKEND'];
    expect(availableBackends()).not.toContain('wasm');
    const info = await initBackend();
    expect(info.name).toBe(availableBackends()[0]);
    expect(info.reason).toBe('fastest available');
    expect(info.unavailable.wasm).toMatch(/simulated: wasm module missing/);
    if (info.name === 'cpu') expect(info.unavailable.tensorflow).toBeDefined();
    expect(tf.getBackend()).toBe(info.name);
    expect(describeBackend(info)).toMatch(/wasm: simulated/);
  });

  it('a forced backend that cannot load is an error, not a silent fallback', async () => {
    await expect(initBackend('wasm')).rejects.toThrow(/'wasm' was requested but @tensorflow\/tfjs-backend-wasm cannot be loaded/);
    process.env['LTH_BACKEND'] = 'wasm';
    await expect(initBackend()).rejects.toThrow(/cannot be loaded/);
  });
});
