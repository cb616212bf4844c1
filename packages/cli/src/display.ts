import { MultiBar, Presets, type SingleBar } from 'cli-progress';
import type { RunEvent, StageState } from '@lth/pipeline';
import type { Io } from './common';

const MARK: Record<StageState, string> = {
  pending: 'pending',
  waiting: 'waiting',
  cached: 'cached ',
  running: 'running',
  ran: 'done   ',
  failed: 'FAILED ',
  skipped: 'skipped',
};

/**
 * Per-stage progress. On a terminal: one cli-progress line per stage (state, id, a bar while
 * it reports progress, the last message). Otherwise: one plain log line per state change,
 * and progress at most every 10 s per stage, so CI logs stay readable.
 */
export class RunDisplay {
  private multi: MultiBar | undefined;
  private bars = new Map<string, SingleBar>();
  private lastLog = new Map<string, number>();
  private width = 10;

  constructor(
    private readonly io: Io,
    private readonly quiet = false,
  ) {}

  start(ids: string[]): void {
    if (this.quiet || !this.io.tty) return;
    this.width = Math.max(...ids.map((i) => i.length), 4);
    this.multi = new MultiBar(
      {
        format: `{state} {id} {bar} {msg}`,
        barsize: 24,
        hideCursor: true,
        clearOnComplete: false,
        stopOnComplete: false,
        autopadding: true,
        stream: process.stderr,
        barCompleteChar: '█',
        barIncompleteChar: '░',
      },
      Presets.shades_classic,
    );
    for (const id of ids) this.bars.set(id, this.multi.create(1, 0, { state: MARK.pending, id: id.padEnd(this.width), msg: '' }));
  }

  event = (e: RunEvent): void => {
    if (this.quiet) return;
    if (e.type === 'problem') return this.note(`warning: ${e.message}`);
    if (e.type === 'log') {
      if (!this.multi) this.io.err(`[${e.id}] ${e.message}\n`);
      else this.bars.get(e.id)?.update({ msg: e.message.slice(0, 60) });
      return;
    }
    if (e.type === 'progress') {
      const bar = this.bars.get(e.id);
      if (bar) {
        bar.setTotal(Math.max(1, e.progress.total));
        bar.update(e.progress.done, { msg: e.progress.message ?? `${e.progress.done}/${e.progress.total}` });
      } else {
        const now = Date.now();
        if (now - (this.lastLog.get(e.id) ?? 0) >= 10_000 || e.progress.done === e.progress.total) {
          this.lastLog.set(e.id, now);
          this.io.err(`[${e.id}] ${e.progress.done}/${e.progress.total}${e.progress.message ? ` ${e.progress.message}` : ''}\n`);
        }
      }
      return;
    }
    const detail = e.error ?? (e.durationMs !== undefined && e.state === 'ran' ? `${(e.durationMs / 1000).toFixed(1)}s` : (e.why ?? ''));
    const bar = this.bars.get(e.id);
    if (bar) {
      if (e.state === 'cached' || e.state === 'ran') bar.update(bar.getTotal(), { state: MARK[e.state], msg: detail });
      else bar.update({ state: MARK[e.state], msg: detail });
    } else if (e.state !== 'pending') {
      this.io.err(`${MARK[e.state]} ${e.id} (${e.uses})${detail ? `: ${detail}` : ''}\n`);
    }
  };

  note(text: string): void {
    if (this.multi) this.multi.log(`${text}\n`);
    else this.io.err(`${text}\n`);
  }

  stop(): void {
    this.multi?.stop();
    this.multi = undefined;
  }
}
