// Runs artifact reads in a process of its own, so that the test around it can bound their
// time and heap from outside: `fuzz DIR SEED PER_KIND` (a FuzzReport) or `read KIND FILE...`
// (one outcome per file). Progress goes to stderr; the JSON result to stdout.
import { ArtifactError } from '../errors';
import { readArtifact, type ArtifactKind } from '../kinds';
import { checkWellFormed, fuzzArtifacts } from './fuzz';

async function main(args: string[]): Promise<unknown> {
  const [mode, ...rest] = args;
  if (mode === 'fuzz') {
    const [dir, seed, perKind] = rest;
    return fuzzArtifacts(dir!, Number(seed), Number(perKind), (what) => process.stderr.write(`trying ${what}\n`));
  }
  const [kind, ...files] = rest as [ArtifactKind, ...string[]];
  return files.map((file) => {
    process.stderr.write(`trying ${file}\n`);
    try {
      checkWellFormed(kind, readArtifact(file, kind));
      return { file, outcome: 'read' };
    } catch (err) {
      const artifact = err instanceof ArtifactError;
      return { file, outcome: artifact ? 'rejected' : 'failed', message: err instanceof Error ? `${err.name}: ${err.message}` : String(err) };
    }
  });
}

main(process.argv.slice(2)).then(
  (result) => process.stdout.write(JSON.stringify(result)),
  (err) => {
    process.stderr.write(`${(err as Error).stack}\n`);
    process.exitCode = 3;
  },
);
