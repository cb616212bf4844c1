#!/usr/bin/env node
// Renders the lottery report of an interrupted (or longer) run over its first ROUNDS rounds,
// from the run record alone: the report/lottery node's list inputs are cut to the stages of
// rounds 1..ROUNDS (and the dense runs), so nothing is recomputed and nothing is missing.
// Use it when a long experiment stopped before its report stage; a complete run has its report.
//   node tools/results/report-rounds.mjs RUN_RECORD.json OUT_DIR ROUNDS
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { reportFromRunRecord } = require('../../packages/report/dist/index.js');

const [recordFile, out, roundsText] = process.argv.slice(2);
const rounds = Number(roundsText);
if (!recordFile || !out || !Number.isInteger(rounds) || rounds < 1) {
  console.error('usage: report-rounds.mjs RUN_RECORD.json OUT_DIR ROUNDS');
  process.exit(2);
}
const rec = JSON.parse(readFileSync(recordFile, 'utf8'));
const roundOf = (id) => {
  const m = /round\[(\d+)\]/.exec(id);
  return m ? Number(m[1]) : 0;
};
for (const node of rec.pipeline) {
  if (node.uses !== 'report/lottery') continue;
  for (const [port, bound] of Object.entries(node.inputs)) {
    if (Array.isArray(bound)) node.inputs[port] = bound.filter((b) => roundOf(b.stage) <= rounds);
  }
  node.config = { ...node.config, title: `${node.config?.title ?? rec.name} (rounds 1-${rounds})` };
}
const reports = await reportFromRunRecord(rec, out);
for (const r of reports) {
  for (const w of r.warnings) console.error(`warning: ${w}`);
  console.log(`${r.id}: wrote ${r.files.join(', ')}`);
}
