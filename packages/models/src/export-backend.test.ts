import { promises as fs } from 'fs';
import * as os from 'os';
import * as path from 'path';
import { tf } from '@lth/compute';
import { initWeights } from './init';
import { exportLayersModel, loadExportedLayersModel } from './export';

// Jest gives this file fresh modules: nothing here initializes a tfjs backend before exporting.
test('exportLayersModel sets up a tfjs backend itself', async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'lth-export-backend-'));
  try {
    const res = await exportLayersModel(initWeights({ arch: 'lenet_300_100', options: {} }, 0), undefined, dir);
    expect((await fs.stat(res.weightsBin)).size).toBe(res.bytes);
    expect(res.bytes).toBe(266610 * 4);
    const loaded = await loadExportedLayersModel(dir);
    const y = loaded.predict(tf.zeros([1, 28, 28, 1])) as tf.Tensor;
    expect(y.shape).toEqual([1, 10]);
    tf.dispose(y);
    loaded.dispose();
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});
