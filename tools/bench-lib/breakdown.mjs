// Where a pipeline run's time went, from its run record (`lth run --json`): the per-stage
// `timings` the engine and the stages record (packages/artifacts/src/run-record.ts,
// StageTimings), summed over the stages that ran. With --jobs 2 two stages run at once, so the
// sums can exceed the wall time; shares are of the summed stage time.

/** Categories in print order: [key, label]. */
export const CATEGORIES = [
  ['steps', 'training steps (forward, gradients, masked Adam)'],
  ['evaluation', 'evaluation (train sample + validation + test)'],
  ['batches', 'data batches (training batches made and released)'],
  ['otherRun', "stages' other work (data parsing, pruning, init, trainer set-up, final bundles)"],
  ['startup', 'stage start-up (worker spawn, module load, backend setup)'],
  ['io', 'artifact I/O (reading + verifying inputs, writing outputs)'],
  ['cache', 'cache (keys + fingerprints, lookups, locks, commits)'],
  ['queue', 'waiting for a free executor slot'],
];

const sum = (xs) => xs.reduce((a, b) => a + (b ?? 0), 0);

/** { [category]: ms summed over the ran stages, total, untimed } from a run record. */
export function breakdown(record) {
  const out = Object.fromEntries(CATEGORIES.map(([k]) => [k, 0]));
  let staged = 0;
  for (const s of record.stages) {
    const t = s.timings;
    if (s.status !== 'ran' || !t) continue;
    const p = t.phases ?? {};
    out.steps += p.stepsMs ?? 0;
    out.evaluation += p.evaluationMs ?? 0;
    out.batches += p.batchesMs ?? 0;
    out.otherRun += Math.max(0, (t.runMs ?? 0) - sum(Object.values(p)));
    out.startup += sum([t.startup?.spawnMs, t.startup?.modulesMs, t.startup?.setupMs]);
    out.io += sum([t.io?.readMs, t.io?.writeMs]);
    out.cache += sum([t.cache.keyMs, t.cache.lookupMs, t.cache.lockMs, t.cache.commitMs]);
    out.queue += t.queueMs ?? 0;
    staged += s.durationMs;
  }
  const total = sum(CATEGORIES.map(([k]) => out[k]));
  return { ...out, total, staged };
}

/** One training's result from its metrics artifact: Pm, early-stop iteration and test accuracy there, final test accuracy. */
export function trainingSummary(metrics) {
  const tests = metrics.rows.filter((r) => r.split === 'test');
  const last = tests[tests.length - 1];
  return {
    pm: metrics.meta.remaining ?? 1,
    earlyStop: metrics.meta.earlyStop?.iteration ?? null,
    testAtEarlyStop: metrics.meta.earlyStop?.testAccuracy ?? null,
    finalTest: last ? last.accuracy : null,
  };
}
