// Shared Jest settings: TypeScript through SWC (no type check here; `tsc -b` does that), and
// @lth/* imports mapped to each package's source so tests need no build step.
const path = require('path');
module.exports = (dir) => ({
  displayName: path.basename(dir),
  rootDir: dir,
  testEnvironment: 'node',
  testMatch: ['<rootDir>/src/**/*.test.ts'],
  transform: { '^.+\\.(t|j)s$': ['@swc/jest', { jsc: { target: 'es2022' }, module: { type: 'commonjs' } }] },
  moduleNameMapper: {
    '^@lth/([a-z]+)$': path.join(__dirname, 'packages/$1/src/index.ts'),
    // Subpath entry points ('@lth/models/weights'), declared in the package's exports.
    '^@lth/([a-z]+)/([a-z-]+)$': path.join(__dirname, 'packages/$1/src/$2.ts'),
  },
  testTimeout: 120000,
  setupFiles: [path.join(__dirname, 'tools/jest-env.js')],
});
