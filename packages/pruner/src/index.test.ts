import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

// @lth/pruner and @lth/rewinder are pure JS: loading them must not load tfjs (119 MB of
// node_modules and a second of start-up for a package that only sorts numbers). The check runs
// the package in a fresh node, as a user's project would load it.
const repoRoot = join(__dirname, '..', '..', '..');

// From the sources (the same import graph as dist), so the test needs no build: the SWC
// loader the engine's tests use, with the `@lth/source` export condition.
const fromSources = ['--conditions=@lth/source', '-r', join(repoRoot, 'packages', 'pipeline', 'ts-register.cjs')];

function modulesLoadedBy(entry: string): string[] {
  const script = `require(${JSON.stringify(entry)}); process.stdout.write(JSON.stringify(Object.keys(require.cache)));`;
  return JSON.parse(execFileSync(process.execPath, [...fromSources, '-e', script], { cwd: repoRoot, encoding: 'utf8' })) as string[];
}

// rewinder is checked here too: it may not import the pruner, but a test may name it.
describe.each(['pruner', 'rewinder'])('@lth/%s without tfjs', (pkg) => {
  it('loads no @tensorflow module and not @lth/compute', () => {
    const loaded = modulesLoadedBy(`@lth/${pkg}`);
    expect(loaded.some((f) => f.includes(join('packages', pkg, 'src')))).toBe(true); // the check itself loaded the package
    expect(loaded.filter((f) => f.includes('@tensorflow') || f.includes(join('packages', 'compute')))).toEqual([]);
  });
});

it('the entry points above are what the check looks for: @lth/models does load tfjs', () => {
  // Guards the test: if the probe stopped seeing tfjs at all, the checks above would pass vacuously.
  expect(modulesLoadedBy('@lth/models').some((f) => f.includes('@tensorflow'))).toBe(true);
});
