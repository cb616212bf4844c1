import { existsSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { acquireLock } from '../index';
import { tempDir } from '../__tests__/helpers';

describe('acquireLock', () => {
  it('is exclusive: the second waits until the first releases', async () => {
    const file = join(tempDir(), 'k.lock');
    const release1 = await acquireLock(file);
    let waited = false;
    let got = false;
    const second = acquireLock(file, { pollMs: 20, onWait: () => (waited = true) }).then((r) => {
      got = true;
      return r;
    });
    await new Promise((r) => setTimeout(r, 150));
    expect([waited, got]).toEqual([true, false]);
    release1();
    (await second)();
    expect(got).toBe(true);
    expect(existsSync(file)).toBe(false);
  });

  it("takes over a dead process's lock at once, and a live one's only when its heartbeat is old", async () => {
    const dir = tempDir();
    const dead = join(dir, 'dead.lock');
    writeFileSync(dead, JSON.stringify({ pid: 2 ** 22 + 12345, host: hostname() }));
    (await acquireLock(dead, { pollMs: 10 }))();
    const old = join(dir, 'old.lock');
    // held by a live process (this one's parent) but not refreshed for a minute
    writeFileSync(old, JSON.stringify({ pid: process.ppid, host: hostname() }));
    const t = new Date(Date.now() - 60_000);
    utimesSync(old, t, t);
    (await acquireLock(old, { staleMs: 30_000, pollMs: 10 }))();
    const fresh = join(dir, 'fresh.lock');
    writeFileSync(fresh, JSON.stringify({ pid: process.ppid, host: hostname() }));
    const abort = new AbortController();
    setTimeout(() => abort.abort(), 200);
    await expect(acquireLock(fresh, { pollMs: 10, signal: abort.signal })).rejects.toThrow('interrupted while waiting for a cache lock');
  });

  it('takes over an empty or unparsable lock at once (a full disk could leave one before lth wrote locks whole)', async () => {
    const dir = tempDir();
    for (const [name, text] of [
      ['empty.lock', ''],
      ['partial.lock', '{"pid": 12'],
    ] as const) {
      const file = join(dir, name);
      writeFileSync(file, text);
      let waited = false;
      // a 30 s heartbeat timeout would make this wait; it must not wait at all
      (await acquireLock(file, { pollMs: 10, onWait: () => (waited = true) }))();
      expect([name, waited, existsSync(file)]).toEqual([name, false, false]);
    }
  });

  it('a lock is created whole: its content is there the moment the file exists', async () => {
    const file = join(tempDir(), 'whole.lock');
    const release = await acquireLock(file);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({ pid: process.pid, host: hostname() });
    expect(readdirSync(dirname(file))).toEqual(['whole.lock']);
    release();
  });
});
