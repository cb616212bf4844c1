// The workspace's packages in dependency order. A package may import only packages of a
// strictly lower rank (tools/check-boundaries.mjs enforces it), which keeps the graph acyclic
// and keeps stage packages from ever importing the pipeline engine.
export const RANKS = {
  random: 0,
  artifacts: 0,
  compute: 1,
  data: 2,
  models: 2,
  trainer: 3,
  pruner: 3,
  rewinder: 3,
  report: 4,
  analysis: 4,
  pipeline: 5,
  sweep: 6,
  cluster: 6,
  cli: 7,
};

// Packages that may import fewer @lth packages than their rank allows (non-test source). The
// engine knows no stage package: the CLI hands it the stage modules to load, and a stage that
// needs a tensor backend sets it up itself (StageDef.setup).
export const ONLY_IMPORTS = {
  pipeline: ['artifacts', 'random'],
};
