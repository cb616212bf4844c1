import { PipelineError, planFromText, type Plan } from '../index';
import { testRegistry } from '../__tests__/helpers';

const registry = testRegistry();

function errorsOf(text: string, sets: string[] = []): string[] {
  try {
    planFromText('p.yaml', text, { registry, sets });
  } catch (err) {
    if (err instanceof PipelineError) return err.message.split('\n');
    throw err;
  }
  throw new Error('expected the pipeline to be invalid');
}

function plan(text: string, sets: string[] = []): Plan {
  return planFromText('p.yaml', text, { registry, sets });
}

describe('validation errors (file:line:col: path: message)', () => {
  it('unknown stage id lists the registered ids', () => {
    const e = errorsOf('name: p\nstages:\n  a: { uses: test/nope }\n');
    expect(e).toEqual(["p.yaml:3:14: stages.a.uses: unknown stage 'test/nope'; registered: test/collect, test/curve, test/metrics, test/need, test/work"]);
  });

  it('unknown input port lists the ports with kinds', () => {
    const e = errorsOf('name: p\nstages:\n  a: { uses: test/work }\n  b:\n    uses: test/work\n    inputs: { x: a }\n');
    expect(e).toEqual(["p.yaml:6:15: stages.b.inputs.x: unknown input 'x' of test/work; valid: a (table), b (table)"]);
  });

  it('missing required input', () => {
    expect(errorsOf('name: p\nstages:\n  c:\n    uses: test/need\n    inputs: {}\n')).toEqual([
      "p.yaml:5:13: stages.c.inputs: missing required input 'x' (table) of test/need; inputs: x",
    ]);
    // a `many` port may be left out: it gets an empty list
    expect(plan('name: p\nstages:\n  c: { uses: test/collect }\n').nodes[0]?.inputs).toEqual({ items: [] });
  });

  it('reference to an unknown stage or output', () => {
    const e = errorsOf('name: p\nstages:\n  a: { uses: test/work }\n  b: { uses: test/work, inputs: { a: zz, b: a.nope } }\n');
    expect(e).toEqual([
      "p.yaml:4:38: stages.b.inputs.a: unknown stage 'zz'; valid: a, b",
      "p.yaml:4:45: stages.b.inputs.b: stage 'a' (test/work) has no output 'nope'; valid: table",
    ]);
  });

  it('a cycle is printed', () => {
    const e = errorsOf('name: p\nstages:\n  a: { uses: test/work, inputs: { a: b } }\n  b: { uses: test/work, inputs: { a: a } }\n');
    expect(e).toEqual(['p.yaml:3:33: stages.a.inputs: cycle: a -> b -> a (each stage takes an input from the next)']);
  });

  it('port kind mismatch', () => {
    const e = errorsOf('name: p\nstages:\n  m: { uses: test/metrics }\n  b: { uses: test/work, inputs: { a: m } }\n');
    expect(e).toEqual(["p.yaml:4:38: stages.b.inputs.a: 'm.metrics' is a metrics artifact but input 'a' of test/work takes table"]);
  });

  it('config fields are checked by the stage schema, choices listed', () => {
    const e = errorsOf('name: p\nstages:\n  a:\n    uses: test/work\n    with:\n      value: nope\n      mode: medium\n      extra: 1\n');
    expect(e).toEqual([
      'p.yaml:6:14: stages.a.with.value: Invalid input: expected number, received string',
      'p.yaml:7:13: stages.a.with.mode: Invalid option: expected one of "fast"|"slow"',
      "p.yaml:8:7: stages.a.with.extra: unknown field 'extra'",
    ]);
  });

  it('document shape, unknown params, bad --set, YAML syntax', () => {
    expect(errorsOf('name: p\nstagez: {}\nstages: {}\n')).toEqual(["p.yaml:2:1: stagez: unknown field 'stagez'"]);
    expect(errorsOf('name: p\nstages:\n  a: { uses: test/work, with: { value: "${params.v}" } }\n')).toEqual([
      'p.yaml:3:40: stages.a.with.value: unknown reference ${params.v}; valid: ${params}, ${name}, ${prev}',
    ]);
    expect(errorsOf('name: p\nparams: { v: 1 }\nstages: {}\n', ['params.w=2'])).toEqual([
      "(command line):1:1: --set params.w=2: unknown parameter 'w'; valid: v",
    ]);
    expect(errorsOf('name: p\nstages: { a: [1, }\n')[0]).toMatch(/^p\.yaml:2:\d+: YAML: /);
  });

  it('an unknown reference in a group is reported once, not once per round or repetition', () => {
    expect(errorsOf('name: p\nstages:\n  g:\n    foreach: { r: 3 }\n    stages:\n      s: { uses: test/work, with: { tag: "${x}${x}" } }\n')).toEqual([
      'p.yaml:6:42: stages.g.stages.s.with.tag: unknown reference ${x}; valid: ${params}, ${name}, ${r}, ${prev}',
    ]);
  });

  it('lists of valid names stop at 20 (a file may declare thousands)', () => {
    const stages = Array.from({ length: 30 }, (_, i) => `  s${i}: { uses: test/work }\n`).join('');
    const e = errorsOf(`name: p\nstages:\n${stages}  b: { uses: test/work, inputs: { a: zz } }\n`);
    expect(e).toEqual([
      `p.yaml:33:38: stages.b.inputs.a: unknown stage 'zz'; valid: ${Array.from({ length: 20 }, (_, i) => `s${i}`).join(', ')}, ... (11 more)`,
    ]);
  });

  it('collects every error before failing', () => {
    const e = errorsOf(
      'name: p\nstages:\n  a: { uses: test/nope }\n  b: { uses: test/work, inputs: { q: a } }\n  c: { uses: test/work, with: { value: x } }\n',
    );
    expect(e).toHaveLength(3);
  });
});

describe('interpolation, --set, foreach', () => {
  const text = `name: p
params: { v: 2, rounds: 3, tag: x }
stages:
  src: { uses: test/work, with: { value: "\${params.v}", tag: "t-\${params.tag}" } }
  round:
    foreach: { r: "1..\${params.rounds}", init: { step: src } }
    stages:
      step: { uses: test/work, inputs: { a: "\${prev}.step" }, with: { value: "\${r}" } }
      side: { uses: test/work, inputs: { a: step } }
  all: { uses: test/collect, inputs: { items: ["src", "round[*].step.table"] } }
`;

  it('keeps types of whole references and splices text', () => {
    const p = plan(text);
    const src = p.nodes.find((n) => n.id === 'src');
    expect(src?.config).toMatchObject({ value: 2, tag: 't-x' });
    const named = plan('name: nm\nparams: { k: 3 }\nstages:\n  a: { uses: test/work, with: { tag: "${name}-${params}" } }\n');
    expect(named.nodes[0]?.config).toMatchObject({ tag: 'nm-{"k":3}' });
  });

  it('--set overrides params, values parsed as YAML scalars', () => {
    const p = plan(text, ['params.v=5', 'params.rounds=2', 'params.tag=yes']);
    expect(p.nodes.find((n) => n.id === 'src')?.config).toMatchObject({ value: 5, tag: 't-yes' });
    expect(p.nodes.map((n) => n.id).filter((id) => id.startsWith('round'))).toHaveLength(4);
  });

  it('expands rounds, binds ${prev} and init, collects round[*]', () => {
    const p = plan(text);
    const ids = p.nodes.map((n) => n.id);
    expect(new Set(ids)).toEqual(new Set(['src', 'round[1].step', 'round[1].side', 'round[2].step', 'round[2].side', 'round[3].step', 'round[3].side', 'all']));
    const byId = (id: string) => p.nodes.find((n) => n.id === id);
    expect(byId('round[1].step')?.inputs).toEqual({ a: { stage: 'src', port: 'table' } });
    expect(byId('round[3].step')?.inputs).toEqual({ a: { stage: 'round[2].step', port: 'table' } });
    expect(byId('round[2].side')?.inputs).toEqual({ a: { stage: 'round[2].step', port: 'table' } });
    expect(byId('round[2].step')?.config).toMatchObject({ value: 2 });
    expect(byId('all')?.inputs['items']).toEqual([
      { stage: 'src', port: 'table' },
      { stage: 'round[1].step', port: 'table' },
      { stage: 'round[2].step', port: 'table' },
      { stage: 'round[3].step', port: 'table' },
    ]);
    // topological: every stage after its inputs
    const pos = new Map(ids.map((id, i) => [id, i]));
    for (const n of p.nodes) for (const d of n.deps) expect(pos.get(d)).toBeLessThan(pos.get(n.id) as number);
  });

  it('${prev} without an init entry leaves an optional input unbound in round 1', () => {
    const p = plan(`name: p
stages:
  round:
    foreach: { r: "1..2" }
    stages:
      step: { uses: test/work, inputs: { a: "\${prev}.step" } }
`);
    expect(p.nodes.map((n) => [n.id, n.inputs])).toEqual([
      ['round[1].step', {}],
      ['round[2].step', { a: { stage: 'round[1].step', port: 'table' } }],
    ]);
  });

  it('foreach errors are located', () => {
    expect(errorsOf('name: p\nstages:\n  g:\n    foreach: { r: "a..b" }\n    stages: { s: { uses: test/work } }\n')).toEqual([
      'p.yaml:4:19: stages.g.foreach.r: expected a range "FROM..TO" of integers or a count, got "a..b"',
    ]);
    expect(errorsOf('name: p\nstages:\n  g:\n    foreach: { r: "1..2" }\n    stages: { s: { uses: test/work, inputs: { a: "g[5].s" } } }\n')).toEqual([
      "p.yaml:5:50: stages.g.stages.s.inputs.a: (g[1].s) 'g[5].s': round 5 is outside g[1..2]",
    ]);
  });
});
