// Step 5 of tools/consumer-test.mjs: how the consumer project runs a pipeline with its own
// stage module. custom-stage.yaml names the module under `plugins:`, so nothing beyond the
// pipeline file is needed (LTH_STAGE_MODULES still works for modules outside any pipeline).

/** The `lth` arguments and environment that run custom-stage.yaml with the project's stages. */
export function customStageRun() {
  return { args: ['run', 'custom-stage.yaml', '--json'], env: {} };
}
