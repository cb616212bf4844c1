import { extraStageModules, loadRegistry, type Registry } from '@lth/pipeline';

/**
 * The stage packages `lth` ships with, as the module files this package resolves them to:
 * the engine loads exactly these (and the coordinator hands the same files to its worker
 * processes). The engine itself imports no stage package.
 */
export function builtinStageModules(): string[] {
  return [
    require.resolve('@lth/data'),
    require.resolve('@lth/models'),
    require.resolve('@lth/trainer'),
    require.resolve('@lth/pruner'),
    require.resolve('@lth/rewinder'),
    require.resolve('@lth/report'),
    require.resolve('@lth/analysis'),
  ];
}

/**
 * The registry of every `lth` command: the built-in stage packages (unless
 * LTH_BUILTIN_STAGES=0: isolated tests, plugin development) and LTH_STAGE_MODULES. A
 * pipeline's own `plugins:` are added when it is loaded.
 */
export function cliRegistry(env: NodeJS.ProcessEnv = process.env): Registry {
  const builtin = env['LTH_BUILTIN_STAGES'] === '0' ? [] : builtinStageModules();
  return loadRegistry({ modules: [...builtin, ...extraStageModules(env)] });
}
