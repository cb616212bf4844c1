#!/usr/bin/env node
import { describeInternalError, EXIT } from './common';
import { main } from './program';

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(describeInternalError(err));
    process.exitCode = EXIT.internal;
  },
);
