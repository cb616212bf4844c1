import { initBackend, availableBackends, ensureBackend, BACKENDS, withBackend, toActiveBackend, tf } from './index';

describe('backend choice', () => {
  const saved = process.env['LTH_BACKEND'];
  afterEach(() => {
    if (saved === undefined) delete process.env['LTH_BACKEND'];
    else process.env['LTH_BACKEND'] = saved;
  });

  it('picks the fastest available backend in the order tensorflow > wasm > cpu', async () => {
    delete process.env['LTH_BACKEND'];
    const avail = availableBackends();
    expect(avail).toEqual(BACKENDS.filter((b) => avail.includes(b)));
    expect(avail).toEqual(expect.arrayContaining(['wasm', 'cpu']));
    const info = await initBackend();
    expect(info.name).toBe(avail[0]);
    expect(info.reason).toBe('fastest available');
    if (!avail.includes('tensorflow')) expect(info.unavailable.tensorflow).toMatch(/tfjs-node/);
  });

  it('LTH_BACKEND forces a backend, an explicit request overrides it', async () => {
    process.env['LTH_BACKEND'] = 'cpu';
    expect(await initBackend()).toMatchObject({ name: 'cpu', reason: 'forced by LTH_BACKEND' });
    expect(tf.getBackend()).toBe('cpu');
    expect(await initBackend('wasm')).toMatchObject({ name: 'wasm', reason: 'requested' });
    expect(tf.getBackend()).toBe('wasm');
    expect((await ensureBackend()).name).toBe('wasm');
  });

  it('rejects an unknown backend name, naming LTH_BACKEND', async () => {
    await expect(initBackend('webgpu')).rejects.toThrow(/unknown backend 'webgpu'.*valid: tensorflow, wasm, cpu/);
    process.env['LTH_BACKEND'] = 'gpu';
    await expect(initBackend()).rejects.toThrow(/unknown backend 'gpu' \(LTH_BACKEND\)/);
  });

  it('withBackend switches and restores, also on error; toActiveBackend copies data', async () => {
    await initBackend('cpu');
    const a = tf.tensor([1, 2, 3]);
    const sum = await withBackend('wasm', () => {
      expect(tf.getBackend()).toBe('wasm');
      const b = toActiveBackend(a);
      const s = tf.sum(b).dataSync()[0];
      b.dispose();
      return s;
    });
    expect(sum).toBe(6);
    expect(tf.getBackend()).toBe('cpu');
    await expect(withBackend('wasm', () => Promise.reject(new Error('inner')))).rejects.toThrow('inner');
    expect(tf.getBackend()).toBe('cpu');
    a.dispose();
  });

  it('registers the tfjs gradients (absent from the tfjs-core CommonJS bundle)', () => {
    for (const k of ['Conv2D', 'BatchMatMul', 'Relu', 'MaxPool', 'AvgPool', 'FusedBatchNorm', 'Softmax', 'Mean', 'Sum']) {
      expect(tf.getGradient(k)).toBeDefined();
    }
  });
});
