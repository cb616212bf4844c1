#!/usr/bin/env node
// The `lth` command. npm links bins at install time, before a checkout is built, so the bin is
// this committed file rather than dist/bin.js itself; it loads the built CLI, or says how to
// build it. (Installed from a tarball or a registry, dist/ is always there.)
'use strict';
const { existsSync } = require('node:fs');
const { join } = require('node:path');

const built = join(__dirname, '..', 'dist', 'bin.js');
if (!existsSync(built)) {
  process.stderr.write(`lth: the CLI is not built (${built} is missing): run \`npm run build\` in the lth checkout\n`);
  process.exit(3);
}
require(built);
