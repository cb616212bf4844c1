// Step 2 of tools/consumer-test.mjs: how the consumer project tells lth about its own stage
// module (out/stages.js, compiled from stages.ts). Kept in this one file so that switching
// from the environment variable to a `plugins:` key in custom-stage.yaml changes only this.
import { join } from 'node:path';

/** The `lth` arguments and environment that run custom-stage.yaml with the project's stages. */
export function customStageRun(project) {
  return {
    args: ['run', 'custom-stage.yaml', '--json'],
    env: { LTH_STAGE_MODULES: join(project, 'out', 'stages.js') },
  };
}
