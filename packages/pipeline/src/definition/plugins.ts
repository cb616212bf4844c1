import { dirname, resolve } from 'node:path';
import type { Diagnostic } from './errors';
import type { Registry } from './registry';
import type { Source } from './source';

/**
 * Loads a pipeline's `plugins:` into the registry: each a path relative to the pipeline file
 * (anywhere: the user wrote it in their own file) or a package name resolved from the file's
 * directory. A plugin that is missing, fails to load, or exports a wrong stage definition is
 * an error located at its entry (file:line:col), naming the module and the field.
 */
export function loadPlugins(plugins: readonly string[], src: Source, registry: Registry): Diagnostic[] {
  const from = dirname(resolve(src.file));
  const errors: Diagnostic[] = [];
  plugins.forEach((spec, i) => {
    const at = ['plugins', i];
    let loaded: { file: string; problems: string[] };
    try {
      loaded = registry.load(spec, from);
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      const why =
        e.code === 'MODULE_NOT_FOUND' && !String(e.message).includes('\nRequire stack')
          ? 'not found'
          : e.code === 'MODULE_NOT_FOUND'
            ? firstLine(e.message)
            : `failed to load: ${firstLine(e.message)}`;
      errors.push(src.diag(at, `plugin '${spec}' (from ${from}): ${why}`));
      return;
    }
    for (const p of loaded.problems) errors.push(src.diag(at, `plugin ${p}`));
  });
  return errors;
}

function firstLine(s: string): string {
  return s.split('\n')[0] ?? s;
}
