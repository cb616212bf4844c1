import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { nodeArgsForSources } from '@lth/pipeline/testing';

// Every `lth` command pays for the modules the CLI loads before it starts: @lth/cluster (BullMQ,
// ioredis, the S3 client) and @lth/sweep took ~1.2 s of a 1.4 s `lth run` start-up, and a local
// run needs neither. They are required when a command uses them.
test('the CLI loads @lth/cluster and @lth/sweep only when a command uses them', () => {
  const program = join(__dirname, 'program.ts');
  const script = `require(${JSON.stringify(program)});
    const loaded = Object.keys(require.cache);
    const has = (name) => loaded.some((f) => f.includes(name));
    console.log(JSON.stringify({ bullmq: has('/bullmq/'), ioredis: has('/ioredis/'), cluster: has('/cluster/src/') || has('/cluster/dist/'), sweep: has('/sweep/src/') || has('/sweep/dist/'), pipeline: has('/pipeline/src/') || has('/pipeline/dist/') }));`;
  const out = execFileSync(process.execPath, [...nodeArgsForSources(), '-e', script], { encoding: 'utf8' });
  expect(JSON.parse(out.trim().split('\n').pop()!)).toEqual({ bullmq: false, ioredis: false, cluster: false, sweep: false, pipeline: true });
});
