import type { z } from 'zod';
import type { Diagnostic } from './errors';
import type { Source } from './source';

/** Maps zod issues to located diagnostics under `base` (a path inside the document). */
export function zodDiagnostics(src: Source, base: Array<string | number>, error: z.ZodError): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const issue of error.issues) {
    const path = [...base, ...(issue.path as Array<string | number>)];
    if (issue.code === 'unrecognized_keys') {
      const allowed = allowedKeys(issue);
      for (const key of issue.keys) {
        out.push(src.diag([...path, key], `unknown field '${key}'${allowed ? `; valid: ${allowed}` : ''}`, true));
      }
      continue;
    }
    out.push(src.diag(path, issue.message));
  }
  return out;
}

function allowedKeys(issue: z.core.$ZodIssue): string | undefined {
  const known = (issue as { allowed?: unknown }).allowed;
  return Array.isArray(known) ? known.join(', ') : undefined;
}
