// Development loader: lets `node -r ./ts-register.cjs --conditions=@lth/source` run the
// TypeScript sources directly (used by the tests, which run without a build). Built code
// (dist/) never needs it.
const { readFileSync } = require('node:fs');
const { transformSync } = require('@swc/core');

require.extensions['.ts'] = function compileTs(module, filename) {
  const out = transformSync(readFileSync(filename, 'utf8'), {
    filename,
    jsc: { target: 'es2022', parser: { syntax: 'typescript' } },
    module: { type: 'commonjs' },
    sourceMaps: 'inline',
  });
  module._compile(out.code, filename);
};
