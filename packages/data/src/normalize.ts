import type { DatasetMeta } from '@lth/artifacts';

export interface Normalization {
  mean: number[];
  std: number[];
}

/**
 * Per-channel mean and standard deviation of pixel values scaled to [0, 1]. Callers pass the
 * training rows only, so that no validation or test statistic leaks into training.
 */
export function channelStats(images: Uint8Array, channels: number): Normalization {
  // Integer histograms per channel: exact sums without float accumulation error, and fast.
  const hist = new Float64Array(channels * 256);
  for (let i = 0; i < images.length; i++) hist[(i % channels) * 256 + (images[i] as number)]! += 1;
  const mean: number[] = [];
  const std: number[] = [];
  for (let c = 0; c < channels; c++) {
    let n = 0;
    let s = 0;
    for (let v = 0; v < 256; v++) {
      const k = hist[c * 256 + v] as number;
      n += k;
      s += k * (v / 255);
    }
    const m = n > 0 ? s / n : 0;
    let ss = 0;
    for (let v = 0; v < 256; v++) {
      const d = v / 255 - m;
      ss += (hist[c * 256 + v] as number) * d * d;
    }
    const sd = n > 0 ? Math.sqrt(ss / n) : 1;
    mean.push(m);
    // A constant channel would divide by zero; leave it unscaled instead.
    std.push(sd > 1e-8 ? sd : 1);
  }
  return { mean, std };
}

/** A lookup table uint8 -> normalized float, per channel: lut[c * 256 + v]. */
export function normalizationTable(meta: Pick<DatasetMeta, 'shape' | 'normalization'>): Float32Array {
  const c = meta.shape[2];
  const lut = new Float32Array(c * 256);
  for (let ch = 0; ch < c; ch++) {
    const m = meta.normalization.mean[ch] ?? 0;
    const s = meta.normalization.std[ch] ?? 1;
    for (let v = 0; v < 256; v++) lut[ch * 256 + v] = (v / 255 - m) / s;
  }
  return lut;
}
