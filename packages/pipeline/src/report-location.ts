import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { StageRecord } from './record';

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

/** The report stages' file directories; else the last completed stage's first output. */
export function reportLocation(stages: StageRecord[]): string | undefined {
  const reports = stages.filter((s) => s.uses.startsWith('report/') && s.files);
  const last = reports[reports.length - 1];
  if (last?.files) return mainPage(last.files);
  const done = stages.filter((s) => s.status === 'ran' || s.status === 'cached');
  const tail = done[done.length - 1];
  return tail?.files ?? Object.values(tail?.outputs ?? {})[0];
}
