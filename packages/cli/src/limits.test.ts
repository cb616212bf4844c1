// Unbounded input (issue #14, defect 4): each file that used to loop forever, exhaust the heap,
// crash with a stack trace or take a minute is refused with a located exit-2 error naming the
// limit (packages/pipeline/src/limits.ts), and nothing runs.
import { join } from 'node:path';
import { LIMITS } from '@lth/pipeline';
import { calls, lth, spawnLth, tempDir, testEnv, writeFile } from './__tests__/harness';

function setup() {
  const dir = tempDir();
  const log = join(dir, 'calls.log');
  const env = testEnv(log);
  const cache = join(dir, 'cache');
  const graph = (file: string) => lth(['graph', file], env);
  const run = (file: string) => lth(['run', file, '--cache-dir', cache, '--in-process'], env);
  return { dir, log, env, graph, run };
}

/** Exit 2, the located message on stderr, no stack trace. */
function expectRefused(r: { code: number; err: string }, located: RegExp | string): void {
  expect(r.code).toBe(2);
  if (typeof located === 'string') expect(r.err).toContain(located);
  else expect(r.err).toMatch(located);
  expect(r.err).toMatch(/nothing was run/);
  expect(r.err).not.toMatch(/\n\s+at /);
}

const group = (range: string, members = 's: { uses: test/work }') => `name: p
stages:
  g:
    foreach: { r: ${range} }
    stages: { ${members} }
`;

describe('limits on pipeline files (lth graph / lth run)', () => {
  it('a foreach range beyond 2^53 (which looped forever) is refused, in graph and in run', async () => {
    const { dir, log, graph, run } = setup();
    const f = writeFile(dir, 'p.yaml', group('"9007199254740990..9007199254740993"'));
    const message = `${f}:4:19: stages.g.foreach.r: range "9007199254740990..9007199254740993": FROM and TO must be safe integers`;
    expectRefused(await graph(f), message);
    expectRefused(await run(f), message);
    expect(calls(log)).toHaveLength(0);
    // a count past 2^53 is refused by the schema already
    const count = writeFile(dir, 'c.yaml', group('100000000000000000000'));
    expectRefused(await graph(count), `${count}:4:19: stages.g.foreach.r: Too big: expected int to be <=${Number.MAX_SAFE_INTEGER}`);
  });

  it('rounds and expanded stages are counted before expansion, in a process with a 200 MB heap', async () => {
    const { dir, log, env } = setup();
    // 1e7 rounds used 3.7 GB before anything was said: under a 200 MB heap that was a V8 abort.
    const rounds = writeFile(dir, 'rounds.yaml', group('10000000'));
    const p = spawnLth(['run', rounds, '--cache-dir', join(dir, 'cache')], { ...env, NODE_OPTIONS: '--max-old-space-size=200' }, dir);
    expect((await p.exit).code).toBe(2);
    expectRefused(
      { code: 2, err: p.err() },
      `${rounds}:4:19: stages.g.foreach.r: count 10000000 gives 10000000 rounds; the limit is ${LIMITS.rounds} rounds per foreach`,
    );
    expect(calls(log)).toHaveLength(0);
    // within the round limit, but rounds x members passes the stage limit
    const stages = writeFile(dir, 'stages.yaml', group('"1..5000"', 'a: { uses: test/work }, b: { uses: test/work }, c: { uses: test/work }'));
    expectRefused(
      await lth(['graph', stages], env),
      `${stages}:4:19: stages.g.foreach.r: 5000 rounds x 3 stages would expand the pipeline to 15000 stages; the limit is ${LIMITS.stages} stages per pipeline`,
    );
    // top-level stages count too
    const many = writeFile(
      dir,
      'many.yaml',
      `name: p\nstages:\n${Array.from({ length: LIMITS.stages + 1 }, (_, i) => `  s${i}: { uses: test/work }\n`).join('')}`,
    );
    expectRefused(
      await lth(['graph', many], env),
      `${many}:${LIMITS.stages + 3}:3: stages.s${LIMITS.stages}: stage 's${LIMITS.stages}' would expand the pipeline to ${LIMITS.stages + 1} stages`,
    );
  }, 120_000);

  it('a YAML alias bomb is a located exit 2 (was exit 1 with a stack trace), under a 200 MB heap', async () => {
    const { dir, env } = setup();
    // 10 levels of "a list of ten aliases of the previous list": 10^10 nodes from 600 bytes
    const levels = Array.from({ length: 9 }, (_, i) => `  l${i + 1}: &l${i + 1} [${Array(10).fill(`*l${i}`).join(', ')}]`);
    const bomb = writeFile(dir, 'bomb.yaml', `name: p\nparams:\n  l0: &l0 [x, x, x, x, x, x, x, x, x, x]\n${levels.join('\n')}\nstages: {}\n`);
    const p = spawnLth(['graph', bomb], { ...env, NODE_OPTIONS: '--max-old-space-size=200' }, dir);
    expect((await p.exit).code).toBe(2);
    expectRefused(
      { code: 2, err: p.err() },
      new RegExp(
        `${escape(bomb)}:8:\\d+: params\\.l5\\[\\d\\]: the document with its aliases expanded passes ${LIMITS.documentNodes} nodes at \\*l4; the limit is`,
      ),
    );
  }, 120_000);

  it('alias cycles, aliases without an anchor, too many aliases and deep nesting are located errors', async () => {
    const { dir, graph } = setup();
    const cycle = writeFile(dir, 'cycle.yaml', 'name: p\nparams: { w: &w { a: [1, *w] } }\nstages: {}\n');
    expectRefused(await graph(cycle), `${cycle}:2:26: params.w.a[1]: alias *w is inside the node &w it names (a cycle)`);
    const dangling = writeFile(dir, 'dangling.yaml', 'name: p\nparams: { w: *nope }\nstages: {}\n');
    expectRefused(await graph(dangling), `${dangling}:2:14: params.w: alias *nope has no anchor &nope before it`);
    const aliases = writeFile(
      dir,
      'aliases.yaml',
      `name: p\nparams:\n  x: &x 1\n  l: [${Array(LIMITS.aliases + 1)
        .fill('*x')
        .join(', ')}]\nstages: {}\n`,
    );
    expectRefused(
      await graph(aliases),
      new RegExp(`${escape(aliases)}:4:\\d+: params\\.l\\[${LIMITS.aliases}\\]: too many aliases .*the limit is ${LIMITS.aliases} aliases per file`),
    );
    const depth = LIMITS.depth + 10;
    const deep = writeFile(dir, 'deep.yaml', `name: p\nparams: { d: ${'['.repeat(depth)}${']'.repeat(depth)} }\nstages: {}\n`);
    expectRefused(await graph(deep), new RegExp(`${escape(deep)}:2:\\d+: params\\.d(\\[0\\])+: nesting is deeper than ${LIMITS.depth} levels`));
    // an alias that is shallow itself but expands deep: document, params, 30 lists, then 40 more
    const nest = `${'['.repeat(40)}${']'.repeat(40)}`;
    const deepAlias = writeFile(dir, 'deep-alias.yaml', `name: p\nparams:\n  a: &a ${nest}\n  b: ${'['.repeat(30)}*a${']'.repeat(30)}\nstages: {}\n`);
    expectRefused(await graph(deepAlias), /params\.b(\[0\]){30}: alias \*a nests 72 levels deep; the limit is 64 levels/);
  });

  it('a file over the size limit is refused without being parsed', async () => {
    const { dir, graph } = setup();
    const big = writeFile(dir, 'big.yaml', `name: p\nstages: {}\n#${'x'.repeat(LIMITS.fileBytes)}\n`);
    expectRefused(await graph(big), `${big}:1:1: the file is ${LIMITS.fileBytes + 21} bytes; the limit is ${LIMITS.fileBytes} bytes`);
  });

  it('interpolation that would splice in gigabytes stops at the expansion limit, located', async () => {
    const { dir, graph } = setup();
    // 100 KB param spliced 200 times into one string, in each of 50 rounds: 1 GB expanded
    const f = writeFile(
      dir,
      'splice.yaml',
      `name: p
params: { s: "${'y'.repeat(100_000)}" }
stages:
  g:
    foreach: { r: 50 }
    stages:
      s: { uses: test/work, with: { tag: "${'${params.s}'.repeat(200)}" } }
`,
    );
    expectRefused(
      await graph(f),
      new RegExp(`${escape(f)}:7:\\d+: stages\\.g\\.stages\\.s\\.with\\.tag: the expanded pipeline passes ${LIMITS.expandedChars} characters of JSON here`),
    );
  });

  it('GROUP[*] references that would bind rounds^2 inputs stop at the binding limit', async () => {
    const { dir, graph } = setup();
    const f = writeFile(
      dir,
      'bind.yaml',
      `name: p
stages:
  g: { foreach: { r: 4000 }, stages: { s: { uses: test/work } } }
  h: { foreach: { r: 30 }, stages: { c: { uses: test/collect, inputs: { items: "g[*].s" } } } }
`,
    );
    expectRefused(
      await graph(f),
      `${f}:4:80: stages.h.stages.c.inputs.items: (h[26].c) the expanded pipeline passes ${LIMITS.inputBindings} input bindings here`,
    );
  });

  it('a 1 MB file of keys parses in linear time (it took 63 s), and duplicate keys are still found', async () => {
    const { dir, graph } = setup();
    const keys = (n: number) => Array.from({ length: n }, (_, i) => `  k${i}: ${i}\n`).join('');
    const f = writeFile(dir, 'keys.yaml', `name: p\nparams:\n${keys(64_000)}stages: { a: { uses: test/work } }\n`);
    const t0 = Date.now();
    const r = await graph(f);
    const ms = Date.now() - t0;
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^pipeline p \(1 stages\)/);
    // for the report; the assertion is on the outcome, the Jest timeout catches a quadratic parse
    process.stdout.write(`1 MB of keys: lth graph in ${ms} ms\n`);
    const dup = writeFile(dir, 'dup.yaml', `name: p\nparams:\n${keys(64_000)}  k7: 8\nstages: {}\n`);
    expectRefused(await graph(dup), `${dup}:64003:3: params.k7: duplicate key 'k7' (first at line 10); mapping keys must be unique`);
    // Two 1 MB parses: quadratic, each took 48-63 s; linear, both take 4-13 s on a loaded machine.
  }, 90_000);

  it('thousands of errors print the first 100 and a count', async () => {
    const { dir, graph } = setup();
    const f = writeFile(
      dir,
      'typos.yaml',
      `name: p\nstages:\n  a:\n    uses: test/work\n    with:\n${Array.from({ length: 5000 }, (_, i) => `      x${i}: 1\n`).join('')}`,
    );
    const r = await graph(f);
    expectRefused(r, `${f}:6:7: stages.a.with.x0: unknown field 'x0'`);
    expect(r.err).toContain('... and 4900 more\n5000 errors; nothing was run');
    expect(r.err.split('\n').length).toBeLessThan(110);
    // 5000 stages that each reference an unknown stage: each message listed all 5000 names
    const refs = writeFile(
      dir,
      'refs.yaml',
      `name: p\nstages:\n${Array.from({ length: 5000 }, (_, i) => `  s${i}: { uses: test/work, inputs: { a: t${i} } }\n`).join('')}`,
    );
    const many = await graph(refs);
    expectRefused(many, `${refs}:3:39: stages.s0.inputs.a: unknown stage 't0'; valid: s0, s1, s2`);
    expect(many.err).toContain('... (4980 more)');
    expect(many.err).toContain('5000 errors; nothing was run');
    expect(many.err.length).toBeLessThan(50_000);
  }, 60_000);
});

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
