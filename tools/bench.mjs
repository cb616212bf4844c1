#!/usr/bin/env node
// Benchmark runner (`npm run bench`, which builds first: the benchmarks import packages/*/dist).
// Every tools/bench/*.mjs exports `async run(options)` returning rows
//   { name: string, backend: string, ms: number, runs?: number, note?: string }
// and can also run alone (`node tools/bench/conv.mjs`). Add a file there to add a benchmark.
//
// Usage: node tools/bench.mjs [--json] [--only conv,data] [--runs N] [--slow]
// Options reach each run(options) as { runs, slow, log }.
import { readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const dir = new URL('./bench/', import.meta.url).pathname;

function parseArgs(argv) {
  const opts = { json: false, only: null, runs: undefined, slow: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--json') opts.json = true;
    else if (a === '--only') opts.only = (argv[++i] ?? '').split(',').filter(Boolean);
    else if (a === '--runs') opts.runs = Number(argv[++i]);
    else if (a === '--slow') opts.slow = true;
    else if (a === '-h' || a === '--help') {
      console.log(
        'usage: node tools/bench.mjs [--json] [--only NAME[,NAME]] [--runs N] [--slow]\n  --slow: also cases that take minutes (the cpu filter gradient, the cluster quickstart, the end-to-end experiment with --jobs 1)\nbenchmarks: ' +
          benchFiles().join(', '),
      );
      process.exit(0);
    } else throw new Error(`tools/bench.mjs: unknown argument '${a}' (try --help)`);
  }
  if (opts.runs !== undefined && !(Number.isInteger(opts.runs) && opts.runs > 0)) throw new Error('tools/bench.mjs: --runs needs a positive integer');
  return opts;
}

function benchFiles() {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.mjs'))
    .sort()
    .map((f) => f.replace(/\.mjs$/, ''));
}

function table(rows) {
  const head = ['benchmark', 'case', 'backend', 'median ms', 'runs', 'note'];
  const body = rows.map((r) => [
    r.bench,
    r.name,
    r.backend,
    Number.isFinite(r.ms) ? r.ms.toFixed(r.ms < 10 ? 2 : 1) : 'n/a',
    String(r.runs ?? ''),
    r.note ?? '',
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells) =>
    cells
      .map((c, i) => (i === 3 || i === 4 ? c.padStart(widths[i]) : c.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}

const opts = parseArgs(process.argv.slice(2));
const names = benchFiles().filter((n) => !opts.only || opts.only.includes(n));
if (opts.only)
  for (const n of opts.only) if (!names.includes(n)) throw new Error(`tools/bench.mjs: no benchmark '${n}' in tools/bench/ (have: ${benchFiles().join(', ')})`);

// Each benchmark starts on the default backend, whatever the previous one switched to.
const compute = createRequire(import.meta.url)(join(dir, '../../packages/compute/dist/index.js'));

const rows = [];
const failures = [];
for (const name of names) {
  const mod = await import(pathToFileURL(join(dir, `${name}.mjs`)).href);
  if (typeof mod.run !== 'function') {
    failures.push(`${name}: tools/bench/${name}.mjs exports no run()`);
    continue;
  }
  if (!opts.json) process.stderr.write(`running ${name}...\n`);
  try {
    await compute.initBackend();
    for (const r of await mod.run({ runs: opts.runs, slow: opts.slow, log: (m) => opts.json || process.stderr.write(`  ${m}\n`) }))
      rows.push({ bench: name, ...r });
  } catch (err) {
    failures.push(`${name}: ${err?.stack ?? err}`);
  }
}
if (opts.json) console.log(JSON.stringify({ rows, failures }, null, 2));
else {
  console.log(table(rows));
  for (const f of failures) console.error(`FAILED ${f}`);
}
process.exitCode = failures.length ? 1 : 0;
