#!/usr/bin/env node
// Combines the runs of one lottery pipeline with different seeds into one report with error
// bars (mean, min..max over seeds), using @lth/report's plain function: the run records name
// every stage's artifacts, so nothing is recomputed.
//   node tools/results/combine-seeds.mjs OUT_DIR RUN_RECORD.json [RUN_RECORD.json ...]
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { readArtifact } = require('../../packages/artifacts/dist/index.js');
const { lotteryReport } = require('../../packages/report/dist/index.js');

const args = process.argv.slice(2);
const out = args.shift();
if (!out || args.length === 0) {
  console.error('usage: combine-seeds.mjs OUT_DIR RUN_RECORD.json [...]');
  process.exit(2);
}

const records = args.map((f) => JSON.parse(readFileSync(f, 'utf8')));
const stageOut = (rec, id, port) => {
  const s = rec.stages.find((x) => x.id === id);
  if (!s?.outputs?.[port]) throw new Error(`${rec.file}: no output ${id}.${port}`);
  return s.outputs[port];
};
const rounds = (rec, group, member) =>
  rec.stages
    .map((s) => s.id.match(new RegExp(`^${group}\\[(\\d+)\\]\\.${member}$`)))
    .filter(Boolean)
    .map((m) => Number(m[1]))
    .sort((a, b) => a - b);
const list = (rec, group, member, port, kind) => rounds(rec, group, member).map((r) => readArtifact(stageOut(rec, `${group}[${r}].${member}`, port), kind));

// seed-major: every round of seed 0, then every round of seed 1 (the report's default order)
const inputs = {
  dense: records.map((r) => readArtifact(stageOut(r, 'dense', 'metrics'), 'metrics')),
  tickets: records.flatMap((r) => list(r, 'round', 'train', 'metrics', 'metrics')),
  ticketSparsity: records.flatMap((r) => list(r, 'round', 'prune', 'sparsity', 'sparsity')),
  reinit: records.flatMap((r) => list(r, 'round', 'control', 'metrics', 'metrics')),
  randomPrune: records.flatMap((r) => list(r, 'round', 'randomTrain', 'metrics', 'metrics')),
};
const r = await lotteryReport(
  inputs,
  {
    title: `${records[0].name}: ${records.length} seeds`,
    pipeline: records[0].name,
    params: { ...records[0].params, seed: records.map((x) => x.params.seed).join(', ') },
    seeds: records.length,
  },
  { outDir: out },
);
for (const w of r.warnings) console.error(`warning: ${w}`);
console.log(`wrote ${r.files.join(', ')} to ${out}`);
