// Timing helpers shared by the benchmarks in tools/bench/ (kept outside that folder, whose
// every file tools/bench.mjs runs as a benchmark).

/** The median (upper middle for an even count), robust to a few slow runs on a shared machine. */
export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** Median wall time of `fn` over `runs` runs, after `warmup` untimed ones (JIT, kernel setup). */
export function timeMedian(fn, runs, warmup = 1) {
  for (let i = 0; i < warmup; i++) fn();
  const ts = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    fn();
    ts.push(performance.now() - t);
  }
  return median(ts);
}

/** The same for an async `fn`. */
export async function timeMedianAsync(fn, runs, warmup = 0) {
  for (let i = 0; i < warmup; i++) await fn();
  const ts = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await fn();
    ts.push(performance.now() - t);
  }
  return median(ts);
}
