/**
 * One part of a selection: a layer's scores as unsigned 32-bit keys (ordered like the scores)
 * and its mask, which is pruned in place. Only entries with mask 1 are candidates.
 *
 * For magnitudes the keys are the float32 bit patterns with the sign bit cleared (`keyMask`
 * 0x7fffffff): for non-negative floats the bit pattern orders like the value, so |w| needs no
 * Math.abs, no copy and no comparison sort.
 */
export interface KeyedPart {
  keys: Uint32Array;
  keyMask: number;
  mask: Uint8Array;
}

const BUCKETS = 1 << 16;

/**
 * Prunes the `n` candidates with the lowest keys over all parts, ties going to the lower flat
 * index (parts in order, then position in the part). Radix selection on 16 + 16 bits: three
 * linear passes and two 256 KiB histograms, whatever the key distribution (no sort, no
 * quickselect worst case); 20M weights take well under a second.
 */
export function pruneLowest(parts: readonly KeyedPart[], n: number): void {
  if (n <= 0) return;
  const hist = new Uint32Array(BUCKETS);
  let candidates = 0;
  for (const { keys, keyMask, mask } of parts) {
    for (let i = 0; i < keys.length; i++) {
      if (mask[i] === 1) {
        const b = ((keys[i] as number) & keyMask) >>> 16;
        hist[b] = (hist[b] as number) + 1;
      }
    }
  }
  for (let b = 0; b < BUCKETS; b++) candidates += hist[b] as number;
  if (n > candidates) throw new Error(`cannot prune ${n} weights: only ${candidates} remain`);

  let need = n;
  let hi = 0;
  for (; hi < BUCKETS; hi++) {
    const c = hist[hi] as number;
    if (need <= c) break;
    need -= c;
  }
  hist.fill(0);
  for (const { keys, keyMask, mask } of parts) {
    for (let i = 0; i < keys.length; i++) {
      if (mask[i] !== 1) continue;
      const k = ((keys[i] as number) & keyMask) >>> 0;
      if (k >>> 16 === hi) hist[k & 0xffff] = (hist[k & 0xffff] as number) + 1;
    }
  }
  let lo = 0;
  for (; lo < BUCKETS; lo++) {
    const c = hist[lo] as number;
    if (need <= c) break;
    need -= c;
  }
  // `need` candidates equal to the threshold are pruned too, the lowest flat indices first.
  const threshold = ((hi << 16) | lo) >>> 0;
  for (const { keys, keyMask, mask } of parts) {
    for (let i = 0; i < keys.length; i++) {
      if (mask[i] !== 1) continue;
      const k = ((keys[i] as number) & keyMask) >>> 0;
      if (k < threshold) mask[i] = 0;
      else if (k === threshold && need > 0) {
        mask[i] = 0;
        need--;
      }
    }
  }
}

/** Keys ordering |w| for a float32 tensor; errors on NaN, which has no magnitude to rank. */
export function magnitudeKeys(name: string, values: Float32Array): KeyedPart['keys'] {
  // A Float32Array's byteOffset is always a multiple of 4, so the view is always valid.
  const keys = new Uint32Array(values.buffer, values.byteOffset, values.length);
  for (let i = 0; i < keys.length; i++) {
    if (((keys[i] as number) & 0x7fffffff) > 0x7f800000) {
      throw new Error(`weights tensor '${name}' has NaN at flat index ${i}: cannot rank it by magnitude (did training diverge?)`);
    }
  }
  return keys;
}
