import { tf, initBackend, withBackend } from '../../index';
import { assembleSandwich } from './sandwich';
import type { HeapBackend } from '../kernel';

describe('wasm transform assembler (out = L D L^T per block of 4 channels)', () => {
  beforeAll(async () => {
    await initBackend('wasm');
  });

  it('computes L D L^T for a hand-worked 2x2 block, over channel groups and outer steps', async () => {
    await withBackend('wasm', () => {
      const backend = tf.backend() as unknown as HeapBackend;
      // L = [[1, 2], [0, -1]], r = s = 2. Source: 2 outer units x 2x2 block x 8 channels (2 groups of 4).
      const L = [
        [1, 2],
        [0, -1],
      ];
      const channels = 8;
      const src = Float32Array.from({ length: 2 * 4 * channels }, (_, i) => (i % 7) - 3 + Math.floor(i / 32) * 0.5);
      const x = tf.tensor(src, [2, 2, 2, channels]);
      const y = tf.tensor(new Float32Array(2 * 4 * channels).fill(NaN), [2, 2, 2, channels]);
      const fn = assembleSandwich(
        { matrix: L, srcOffset: (a, b) => (a * 2 + b) * channels * 4, dstOffset: (i, j) => (i * 2 + j) * channels * 4 },
        backend.wasm.asm!.memory!,
      )!;
      const off = (t: tf.Tensor) => backend.dataIdMap.get(t.dataId).memoryOffset;
      const unit = 4 * channels * 4;
      fn(off(x), off(y), 2, unit, unit, channels / 4);
      const got = y.dataSync();
      for (let u = 0; u < 2; u++) {
        for (let c = 0; c < channels; c++) {
          const d = (a: number, b: number) => src[u * 32 + (a * 2 + b) * channels + c]!;
          // (L D L^T)[i][j] = sum_ab L[i][a] D[a][b] L[j][b], written out:
          const want = [
            d(0, 0) + 2 * d(0, 1) + 2 * d(1, 0) + 4 * d(1, 1), // [0][0]
            -d(0, 1) - 2 * d(1, 1), // [0][1]
            -d(1, 0) - 2 * d(1, 1), // [1][0]
            d(1, 1), // [1][1]
          ];
          want.forEach((w, k) => expect(got[u * 32 + k * channels + c]).toBe(w));
        }
      }
      tf.dispose([x, y]);
    });
  });
});
