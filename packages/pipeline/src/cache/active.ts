import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, rmdirSync, rmSync, statSync, unlinkSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { fsErrorText, writeFileAtomic } from './fs-safe';
import { activeDir, activeFile, activeIdOf, pinsDir, pinsRoot } from './layout';
import { alive } from './lock';

/**
 * Runs in progress register themselves in runs/active/<id>.json ({pid, host, keys}) before
 * they look up or compute any entry, and pin (hard-link) the entries they use under
 * pins/<id>/ (names: layout.ts). `lth cache gc` keeps every entry a live registration names; a
 * registration of a dead process (this host) is stale and removed with its pins.
 */
export const ActiveRun = z.looseObject({
  pid: z.number().int().positive(),
  host: z.string(),
  startedAt: z.string(),
  pipeline: z.string(),
  keys: z.array(z.string()),
});
export type ActiveRun = z.output<typeof ActiveRun>;

/** A registration from another host is trusted this long after its last update. */
const OTHER_HOST_TTL_MS = 24 * 3600_000;

export class RunRegistration {
  readonly id = `${new Date().toISOString().replace(/[:.]/g, '-')}-${process.pid}-${randomBytes(4).toString('hex')}`;
  private readonly keys = new Set<string>();
  private readonly file: string;
  private readonly startedAt = new Date().toISOString();
  /** Why registering failed (read-only or full cache): the run goes on without gc protection. */
  problem: string | undefined;

  constructor(
    private readonly root: string,
    private readonly pipeline: string,
  ) {
    this.file = activeFile(root, this.id);
    this.write();
  }

  get pins(): string {
    return pinsDir(this.root, this.id);
  }

  /** Records that the run is about to use `key`; written before the entry is looked up. */
  use(key: string): void {
    if (this.keys.has(key)) return;
    this.keys.add(key);
    this.write();
  }

  private write(): void {
    if (this.problem) return;
    const body: ActiveRun = { pid: process.pid, host: hostname(), startedAt: this.startedAt, pipeline: this.pipeline, keys: [...this.keys] };
    try {
      mkdirSync(activeDir(this.root), { recursive: true });
      writeFileAtomic(this.file, `${JSON.stringify(body)}\n`);
    } catch (err) {
      this.problem = `could not register the run in ${activeDir(this.root)} (lth cache gc cannot see it): ${fsErrorText(err)}`;
    }
  }

  /** Removes the registration and the run's pinned links. */
  end(): void {
    try {
      unlinkSync(this.file);
    } catch {
      /* never written, or removed by a gc that judged us dead */
    }
    rmSync(this.pins, { recursive: true, force: true });
    // Leave no empty directories behind (others' registrations keep theirs).
    for (const d of [activeDir(this.root), pinsRoot(this.root)]) {
      try {
        rmdirSync(d);
      } catch {
        /* not empty, or absent */
      }
    }
  }
}

/** Live registrations (and removes stale ones and their pins when `reap`). */
export function liveRuns(root: string, opts: { reap?: boolean } = {}): ActiveRun[] {
  const dir = activeDir(root);
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => activeIdOf(n) !== undefined);
  } catch {
    return [];
  }
  const out: ActiveRun[] = [];
  for (const name of names) {
    const file = join(dir, name);
    let run: ActiveRun | undefined;
    let mtime = 0;
    try {
      mtime = statSync(file).mtimeMs;
      const r = ActiveRun.safeParse(JSON.parse(readFileSync(file, 'utf8')));
      if (r.success) run = r.data;
    } catch {
      /* vanished or unreadable: judged below */
    }
    const live = run ? (run.host === hostname() ? alive(run.pid) : Date.now() - mtime < OTHER_HOST_TTL_MS) : Date.now() - mtime < 60_000;
    if (live && run) out.push(run);
    else if (!live && opts.reap) {
      rmSync(file, { force: true });
      rmSync(pinsDir(root, activeIdOf(name) as string), { recursive: true, force: true });
    }
  }
  return out;
}
