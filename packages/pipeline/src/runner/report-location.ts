import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { StageRecord } from '@lth/artifacts';

/** A report's main page: report.html / index.html, else the first .html, else the directory. */
function mainPage(dir: string): string {
  let names: string[] = [];
  try {
    names = readdirSync(dir);
  } catch {
    return dir;
  }
  const page = ['report.html', 'index.html'].find((n) => names.includes(n)) ?? names.find((n) => n.endsWith('.html'));
  return page ? join(dir, page) : dir;
}

/**
 * The report stages' file directories; else the pipeline's last stage's files or first output.
 * Only what was produced: when the last stage did not complete (a failure, Ctrl-C), an earlier
 * stage's intermediate output is not the run's output, so there is none.
 */
export function reportLocation(stages: StageRecord[]): string | undefined {
  const reports = stages.filter((s) => s.uses.startsWith('report/') && s.files && (s.status === 'ran' || s.status === 'cached'));
  const last = reports[reports.length - 1];
  if (last?.files) return mainPage(last.files);
  const tail = stages[stages.length - 1];
  if (!tail || (tail.status !== 'ran' && tail.status !== 'cached')) return undefined;
  return tail.files ?? Object.values(tail.outputs ?? {})[0];
}
