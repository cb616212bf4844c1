#!/usr/bin/env node
import { main } from './program';

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`lth: ${String(err)}\n`);
    process.exitCode = 1;
  },
);
