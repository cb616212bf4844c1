import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { InProcessExecutor, LocalStore, pipelineStatus, planFromText, readRunRecord, Registry, runPipeline, type RunEvent, type RunRecord } from '../index';
import { clearFingerprintCache } from '../testing';
import { loggingDir, tempDir, testRegistry } from '../__tests__/helpers';

process.env['LTH_BACKEND'] = 'cpu';

const TEXT = `name: t
params: { a: 1, b: 10, failxy: false }
stages:
  x: { uses: test/work, with: { value: "\${params.a}", tag: x } }
  y: { uses: test/work, with: { value: "\${params.b}", tag: y } }
  xy: { uses: test/work, inputs: { a: x, b: y }, with: { tag: xy, fail: "\${params.failxy}" } }
  x2: { uses: test/work, inputs: { a: x }, with: { tag: x2, sleepMs: 40 } }
  all: { uses: test/collect, inputs: { items: [xy, x2] } }
`;

function setup(registry: Registry = testRegistry()) {
  const { dir, log, calls: logged } = loggingDir();
  const problems: string[] = [];
  const store = new LocalStore(join(dir, 'cache'), (m) => problems.push(m));
  const executor = new InProcessExecutor(registry, store, 2);
  const calls = () => logged().map((c) => c.tag);
  const run = async (sets: string[] = [], extra: { force?: string[]; text?: string } = {}) => {
    writeFileSync(log, '');
    const events: RunEvent[] = [];
    const rec = await runPipeline(planFromText('t.yaml', extra.text ?? TEXT, { registry, sets }), {
      store,
      executor,
      force: extra.force,
      onEvent: (e) => events.push(e),
    });
    return { rec, calls: calls(), events };
  };
  return { dir, store, run, problems, registry };
}

const statusOf = (rec: RunRecord) => Object.fromEntries(rec.stages.map((s) => [s.id, s.status]));

describe('runPipeline with the in-process executor', () => {
  it('computes once, then hits the cache for every stage', async () => {
    const { run } = setup();
    const first = await run();
    expect(first.rec.status).toBe('ok');
    expect(first.calls.sort()).toEqual(['all', 'collect', 'x', 'x2', 'xy', 'y'].filter((t) => t !== 'all').sort());
    expect(Object.values(statusOf(first.rec))).toEqual(['ran', 'ran', 'ran', 'ran', 'ran']);
    const second = await run();
    expect(second.calls).toEqual([]);
    expect(Object.values(statusOf(second.rec))).toEqual(['cached', 'cached', 'cached', 'cached', 'cached']);
    expect(second.rec.stages.map((s) => s.cacheKey)).toEqual(first.rec.stages.map((s) => s.cacheKey));
  });

  it('changing one param reruns exactly the stages downstream of it', async () => {
    const { run, store } = setup();
    await run();
    const changed = await run(['params.b=11']);
    expect(changed.calls.sort()).toEqual(['collect', 'xy', 'y']);
    expect(statusOf(changed.rec)).toEqual({ x: 'cached', y: 'ran', xy: 'ran', x2: 'cached', all: 'ran' });
    expect(changed.rec.stages.find((s) => s.id === 'y')?.why).toBe('config changed: value 10 -> 11');
    expect(changed.rec.stages.find((s) => s.id === 'xy')?.why).toBe('input changed: b');
    // and status reports the same without running anything
    const st = await pipelineStatus(planFromText('t.yaml', TEXT, { registry: testRegistry(), sets: ['params.b=12'] }), store);
    expect(st.map((s) => [s.id, s.state, s.why])).toEqual([
      ['x', 'cached', expect.stringContaining('cache hit')],
      ['y', 'ran', 'config changed: value 11 -> 12'],
      ['xy', 'ran', 'upstream stage y will run'],
      ['x2', 'cached', expect.stringContaining('cache hit')],
      ['all', 'ran', 'upstream stage xy will run'],
    ]);
  });

  it('a changed artifact value (same config) still reuses identical downstream content', async () => {
    const { run } = setup();
    await run();
    // value 1 -> 1.0 parses to the same number: same canonical config, full hit
    const again = await run(['params.a=1.0']);
    expect(again.calls).toEqual([]);
  });

  it('a failure skips its dependents, lets siblings finish and keeps completed entries', async () => {
    const { run } = setup();
    const failed = await run(['params.failxy=true']);
    expect(failed.rec.status).toBe('failed');
    expect(statusOf(failed.rec)).toEqual({ x: 'ran', y: 'ran', xy: 'failed', x2: 'ran', all: 'skipped' });
    const xy = failed.rec.stages.find((s) => s.id === 'xy');
    expect(xy?.error).toBe("stage 'xy' failed: configured to fail (xy)");
    expect(failed.rec.stages.find((s) => s.id === 'all')?.why).toBe('input stage xy did not complete');
    const fixed = await run();
    expect(fixed.calls.sort()).toEqual(['collect', 'xy']);
  });

  it('--force recomputes the named stage (and only what its new output changes)', async () => {
    const { run } = setup();
    await run();
    const forced = await run([], { force: ['x2'] });
    expect(forced.calls).toEqual(['x2']);
    expect(forced.rec.stages.find((s) => s.id === 'x2')?.why).toBe('forced (--force)');
    // identical output content: downstream keys are unchanged
    expect(statusOf(forced.rec)['all']).toBe('cached');
  });

  it('a corrupted artifact is reported, moved aside and recomputed', async () => {
    const { run, store, problems, dir } = setup();
    const first = await run();
    const y = first.rec.stages.find((s) => s.id === 'y');
    const file = y?.outputs['table'] as string;
    const bytes = readFileSync(file);
    const mid = bytes.length >> 1;
    bytes[mid] = (bytes[mid] as number) ^ 0xff;
    writeFileSync(file, bytes);
    const again = await run();
    expect(again.calls).toEqual(['y']);
    expect(problems.join('\n')).toMatch(/cache entry [0-9a-f]{12} is corrupt \(output 'table' content hash mismatch/);
    expect(readdirSync(join(dir, 'cache', 'corrupt'))).toHaveLength(1);
    expect(statusOf(again.rec)['xy']).toBe('cached');
    expect(existsSync(join(store.entryDir(y?.cacheKey as string), 'entry.json'))).toBe(true);
  });

  it('an incomplete entry (no entry.json) is recomputed', async () => {
    const { run, store } = setup();
    const first = await run();
    const key = first.rec.stages.find((s) => s.id === 'x')?.cacheKey as string;
    writeFileSync(join(store.entryDir(key), 'entry.json'), '{"trunc');
    const again = await run();
    expect(again.calls).toContain('x');
  });

  it('a changed code fingerprint invalidates the stage', async () => {
    const dir = tempDir();
    const pkg = join(dir, 'stagepkg');
    mkdirSync(join(pkg, 'dist'), { recursive: true });
    writeFileSync(join(pkg, 'package.json'), JSON.stringify({ name: 'stagepkg', version: '1.0.0', dependencies: { zod: '*' } }));
    writeFileSync(join(pkg, 'dist', 'index.js'), '// v1\n');
    const fixtures = testRegistry();
    const registry = new Registry();
    // the same stage definitions, fingerprinted as code of the temporary package
    for (const s of fixtures.all()) registry.add(s.def, pkg);
    const { run } = setup(registry);
    clearFingerprintCache();
    await run();
    clearFingerprintCache();
    expect((await run()).calls).toEqual([]);
    writeFileSync(join(pkg, 'dist', 'index.js'), '// v2\n');
    clearFingerprintCache();
    const changed = await run();
    expect(changed.calls.sort()).toEqual(['collect', 'x', 'x2', 'xy', 'y']);
    expect(changed.rec.stages[0]?.why).toMatch(/^code changed \(test\/work package fingerprint [0-9a-f]{8} -> [0-9a-f]{8}\)$/);
  });

  it('writes a run record with stages, inputs, outputs and the resolved pipeline', async () => {
    const { run, dir } = setup();
    const { rec, events } = await run();
    const files = readdirSync(join(dir, 'cache', 'runs'));
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(/^\d{4}-\d\d-\d\dT[\d-]+Z-t\.json$/);
    const onDisk = JSON.parse(readFileSync(join(dir, 'cache', 'runs', files[0] as string), 'utf8')) as RunRecord;
    expect(onDisk.stages).toEqual(rec.stages);
    expect(onDisk.backend).toBe('cpu');
    expect(onDisk.pipeline.map((p) => p.id)).toEqual(['x', 'y', 'xy', 'x2', 'all']);
    const all = rec.stages.find((s) => s.id === 'all');
    expect(all?.inputs).toEqual({
      items: [
        { stage: 'xy', port: 'table' },
        { stage: 'x2', port: 'table' },
      ],
    });
    expect(Object.keys(all?.outputs ?? {})).toEqual(['table', 'metrics']);
    expect(existsSync(all?.outputs['table'] as string)).toBe(true);
    expect(readFileSync(join(all?.files as string, 'report.md'), 'utf8')).toBe('# 2 items\n');
    expect(rec.report).toBe(all?.files); // no .html there: the directory
    // Round trip: the file reads back through the RunRecord schema, timings included.
    const read = readRunRecord(join(dir, 'cache', 'runs', files[0] as string));
    if (!('record' in read)) throw new Error(read.problem);
    expect(read.record.stages).toEqual(rec.stages);
    const x2 = events.filter((e) => e.type === 'stage' && e.id === 'x2').map((e) => (e.type === 'stage' ? e.state : ''));
    expect(x2).toEqual(['pending', 'running', 'ran']);
    expect(events.some((e) => e.type === 'progress' && e.id === 'x2' && e.progress.done === 4)).toBe(true);
  });

  it("records where each stage's time went: cache work always, start-up, I/O, run and the stage's phases when it ran", async () => {
    const { run } = setup();
    const { rec } = await run();
    const x2 = rec.stages.find((s) => s.id === 'x2')?.timings;
    expect(x2).toMatchObject({
      cache: { keyMs: expect.any(Number), lookupMs: expect.any(Number), lockMs: expect.any(Number), commitMs: expect.any(Number) },
      queueMs: expect.any(Number),
      // in-process: no worker to spawn, no modules to load for the task
      startup: { spawnMs: 0, modulesMs: 0, setupMs: expect.any(Number) },
      io: { readMs: expect.any(Number), writeMs: expect.any(Number) },
    });
    // x2 slept (sleepMs 40) and reported that phase; it is part of its run
    const sleptMs = x2?.phases?.['sleepMs'] as number;
    expect(sleptMs).toBeGreaterThan(0);
    expect(x2?.runMs).toBeGreaterThanOrEqual(sleptMs);
    // a stage that reports no phases has none
    expect(rec.stages.find((s) => s.id === 'x')?.timings?.phases).toBeUndefined();
    // a cache hit spent only cache time
    const again = await run();
    for (const s of again.rec.stages) expect(Object.keys(s.timings ?? {})).toEqual(['cache']);
  });
});
