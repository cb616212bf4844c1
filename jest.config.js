// `npm test` runs every package's suite in one Jest process (two workers on two cores).
// testTimeout is a global option: per-project values in jest.preset.js apply only when a
// package's suite runs on its own (nx/turbo), so it is repeated here.
module.exports = { projects: ['<rootDir>/packages/*'], maxWorkers: 2, testTimeout: 120000 };
