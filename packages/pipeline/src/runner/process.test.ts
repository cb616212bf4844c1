import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { InProcessExecutor, LocalStore, planFromText, ProcessExecutor, Registry, runPipeline, UsageError, type Executor, type RunEvent } from '../index';
import { childEnv, loggingDir, tempDir, testRegistry } from '../__tests__/helpers';
import { work } from '../__tests__/fixtures/stages';

const text = (dir: string) => `name: par
stages:
  a: { uses: test/work, with: { value: 1, tag: a, meet: { dir: "${dir}", peer: b } } }
  b: { uses: test/work, with: { value: 2, tag: b, meet: { dir: "${dir}", peer: a } } }
  c: { uses: test/work, inputs: { a: a, b: b }, with: { tag: c } }
  bad: { uses: test/work, with: { tag: bad, fail: true } }
`;

describe('ProcessExecutor (worker processes)', () => {
  it('runs independent stages in parallel in separate processes', async () => {
    const dir = tempDir();
    const log = join(dir, 'calls.log');
    const store = new LocalStore(join(dir, 'cache'));
    const executor = new ProcessExecutor(testRegistry(), store, 2, childEnv({ LTH_TEST_LOG: log }));
    try {
      const rec = await runPipeline(planFromText('par.yaml', text(dir), { registry: testRegistry() }), { store, executor });
      expect(Object.fromEntries(rec.stages.map((s) => [s.id, s.status]))).toEqual({ a: 'ran', b: 'ran', c: 'ran', bad: 'failed' });
      expect(rec.stages.find((s) => s.id === 'bad')?.error).toBe("stage 'bad' failed: configured to fail (bad)");
      const calls = readFileSync(log, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { tag: string; pid: number; start: number; end: number });
      const a = calls.find((c) => c.tag === 'a');
      const b = calls.find((c) => c.tag === 'b');
      const c = calls.find((c) => c.tag === 'c');
      if (!a || !b || !c) throw new Error('missing calls');
      // each waited for the other to start (else 'never ran at the same time'), so the time
      // windows overlap; on two different worker processes (not this one). The stamps are in
      // milliseconds, so on a fast machine one's start can equal the other's end.
      expect(a.start).toBeLessThanOrEqual(b.end);
      expect(b.start).toBeLessThanOrEqual(a.end);
      expect(a.pid).not.toBe(b.pid);
      expect([a.pid, b.pid]).not.toContain(process.pid);
      expect(c.start).toBeGreaterThanOrEqual(Math.max(a.end, b.end));
      const table = rec.stages.find((s) => s.id === 'c')?.outputs['table'] as string;
      expect(existsSync(table)).toBe(true);
      // Timings cross the process boundary: a and b each started a fresh worker (spawned and
      // loaded the stage module); c reused one of them, so it spawned nothing.
      const startup = (id: string) => rec.stages.find((s) => s.id === id)?.timings?.startup;
      for (const id of ['a', 'b']) {
        expect(startup(id)?.spawnMs).toBeGreaterThan(0);
        expect(startup(id)?.modulesMs).toBeGreaterThan(0);
      }
      expect(startup('c')?.spawnMs).toBe(0);
      expect(rec.stages.find((s) => s.id === 'c')?.timings).toMatchObject({ runMs: expect.any(Number), io: { readMs: expect.any(Number) } });
    } finally {
      await executor.close();
    }
  });
});

describe('ProcessExecutor thread budgets (LTH_THREADS)', () => {
  const calls = (log: string) =>
    new Map(
      readFileSync(log, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { tag: string; threads?: string })
        .map((c) => [c.tag, c.threads]),
    );

  it('gives a lone stage every core, and two running stages one each (the first drops to one when the second starts)', async () => {
    const dir = tempDir();
    const log = join(dir, 'calls.log');
    const store = new LocalStore(join(dir, 'cache'));
    // Both must see LTH_THREADS become 1 after their rendezvous, or they fail (awaitThreads).
    const text = `name: thr
stages:
  a: { uses: test/work, with: { value: 1, tag: a, meet: { dir: "${dir}", peer: b }, awaitThreads: "1" } }
  b: { uses: test/work, with: { value: 2, tag: b, meet: { dir: "${dir}", peer: a }, awaitThreads: "1" } }
  c: { uses: test/work, inputs: { a: a, b: b }, with: { tag: c } }
`;
    const executor = new ProcessExecutor(testRegistry(), store, 2, childEnv({ LTH_TEST_LOG: log, LTH_THREADS: '' }), 2);
    try {
      const rec = await runPipeline(planFromText('thr.yaml', text, { registry: testRegistry() }), { store, executor });
      expect(rec.stages.map((s) => [s.id, s.status, s.error])).toEqual([
        ['a', 'ran', undefined],
        ['b', 'ran', undefined],
        ['c', 'ran', undefined],
      ]);
      const threads = calls(log);
      expect([threads.get('a'), threads.get('b')]).toContain('1'); // the second to start: one core from its start
      expect(threads.get('c')).toBe('2'); // alone
    } finally {
      await executor.close();
    }
  });

  it("leaves a user's own LTH_THREADS as it is", async () => {
    const dir = tempDir();
    const log = join(dir, 'calls.log');
    const store = new LocalStore(join(dir, 'cache'));
    const executor = new ProcessExecutor(testRegistry(), store, 2, childEnv({ LTH_TEST_LOG: log, LTH_THREADS: '1' }), 2);
    try {
      await runPipeline(planFromText('one.yaml', 'name: one\nstages:\n  c: { uses: test/work, with: { tag: c } }\n', { registry: testRegistry() }), {
        store,
        executor,
      });
      expect(calls(log).get('c')).toBe('1');
    } finally {
      await executor.close();
    }
  });
});

describe('intermediate values in progress', () => {
  const CURVE = `name: cv
stages:
  fit: { uses: test/curve, with: { curve: "1:2", switchAt: 2, iterations: 3 } }
`;
  // The same events from both executors: the worker forwards iteration and values over IPC.
  it.each([
    ['in-process', (store: LocalStore) => new InProcessExecutor(testRegistry(), store, 1)],
    ['worker processes', (store: LocalStore) => new ProcessExecutor(testRegistry(), store, 1, childEnv())],
  ])('reach onEvent through the %s executor', async (_name, make: (store: LocalStore) => Executor) => {
    const dir = tempDir();
    const store = new LocalStore(join(dir, 'cache'));
    const executor = make(store);
    const events: RunEvent[] = [];
    try {
      const rec = await runPipeline(planFromText('cv.yaml', CURVE, { registry: testRegistry() }), { store, executor, onEvent: (e) => events.push(e) });
      expect(rec.status).toBe('ok');
    } finally {
      await executor.close();
    }
    const progress = events.flatMap((e) => (e.type === 'progress' ? [{ id: e.id, ...e.progress }] : []));
    expect(progress.map((p) => [p.id, p.iteration, p.values?.['validation.accuracy']])).toEqual([
      ['fit', 0, 1],
      ['fit', 1, 1],
      ['fit', 2, 2],
      ['fit', 3, 2],
    ]);
    expect(progress[3]).toEqual({
      id: 'fit',
      done: 3,
      total: 3,
      iteration: 3,
      values: { 'validation.loss': -2, 'validation.accuracy': 2, 'test.accuracy': 2 },
    });
  });
});

describe('stages registered in code', () => {
  const TEXT = `name: incode
stages:
  a: { uses: test/work, with: { tag: a } }
  b: { uses: test/inline, inputs: { a: a }, with: { tag: b } }
`;
  // The same stage definition under another id, added with registry.add: no module to load
  // (its code is fingerprinted as the fixtures file's).
  const registry = () => {
    const r = testRegistry();
    r.add({ ...work, id: 'test/inline' }, join(__dirname, '..', '__tests__', 'fixtures', 'stages.ts'));
    return r;
  };

  it('are refused up front by the process executor, with what to do instead; nothing runs', async () => {
    const { dir, calls } = loggingDir();
    const store = new LocalStore(join(dir, 'cache'));
    const reg = registry();
    const executor = new ProcessExecutor(reg, store, 2, childEnv({ LTH_TEST_LOG: join(dir, 'calls.log') }));
    try {
      const run = runPipeline(planFromText('incode.yaml', TEXT, { registry: reg }), { store, executor });
      await expect(run).rejects.toThrow(UsageError);
      await expect(run).rejects.toThrow(
        "stage 'test/inline' was registered in code (registry.add), not by a stage module, so a worker process cannot load it: run with --in-process (InProcessExecutor), or export it from a stage module (the pipeline's plugins:, or LTH_STAGE_MODULES)",
      );
    } finally {
      await executor.close();
    }
    expect(calls()).toEqual([]);
    expect(store.keys()).toEqual([]);
  });

  it('run in process', async () => {
    const { dir, calls } = loggingDir();
    const store = new LocalStore(join(dir, 'cache'));
    const reg = registry();
    const rec = await runPipeline(planFromText('incode.yaml', TEXT, { registry: reg }), { store, executor: new InProcessExecutor(reg, store, 1) });
    expect(rec.stages.map((s) => [s.id, s.status])).toEqual([
      ['a', 'ran'],
      ['b', 'ran'],
    ]);
    expect(calls().map((c) => c.tag)).toEqual(['a', 'b']);
  });
});

describe("worker processes load the coordinator's stage modules", () => {
  it('from the task, not from their environment (LTH_STAGE_MODULES unset there)', async () => {
    const { dir, calls } = loggingDir();
    const store = new LocalStore(join(dir, 'cache'));
    const env = childEnv({ LTH_TEST_LOG: join(dir, 'calls.log') });
    delete env['LTH_STAGE_MODULES'];
    const registry = new Registry();
    registry.load(join(__dirname, '..', '__tests__', 'fixtures', 'stages.ts'));
    const executor = new ProcessExecutor(registry, store, 1, env);
    try {
      const rec = await runPipeline(planFromText('w.yaml', 'name: w\nstages:\n  a: { uses: test/work, with: { tag: a } }\n', { registry }), {
        store,
        executor,
      });
      expect(rec.stages.map((s) => s.status)).toEqual(['ran']);
    } finally {
      await executor.close();
    }
    expect(calls().map((c) => c.tag)).toEqual(['a']);
    expect(calls()[0]?.pid).not.toBe(process.pid);
  });
});
