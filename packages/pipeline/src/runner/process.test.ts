import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { InProcessExecutor, LocalStore, planFromText, ProcessExecutor, runPipeline, type Executor, type RunEvent } from '../index';
import { childEnv, tempDir, testRegistry } from '../__tests__/helpers';

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
      const calls = readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { tag: string; pid: number; start: number; end: number });
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
    expect(progress[3]).toEqual({ id: 'fit', done: 3, total: 3, iteration: 3, values: { 'validation.loss': -2, 'validation.accuracy': 2, 'test.accuracy': 2 } });
  });
});
