import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeArtifact } from './kinds';
import type { FuzzReport } from './__tests__/fuzz';
import { runIsolated } from './__tests__/run-isolated';
import { SAMPLES } from './__tests__/samples';

// Reads of damaged or crafted files run in a child process with a heap cap and a kill timer,
// so a regression that hangs or exhausts the heap fails the test (naming the input) rather
// than hanging Jest. The ceilings are far above what the reads need: the assertions are on
// outcomes, never on speed.
const LIMITS = { heapMb: 256, timeoutMs: 240_000 };
const SEED = 20240614;
const PER_KIND = 1000;

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'lth-fuzz-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function describeEnd(r: Awaited<ReturnType<typeof runIsolated>>): string {
  if (r.timedOut) return `hung (killed after ${LIMITS.timeoutMs} ms) at ${r.last}`;
  return `exited ${r.code ?? r.signal} at ${r.last}\n${r.stderrTail}`;
}

/** The byte position of every little-endian int64 equal to `value` in [from, to). */
function findInt64(bytes: Buffer, value: bigint, from: number, to: number): number[] {
  const at: number[] = [];
  for (let p = from; p + 8 <= to; p++) if (bytes.readBigInt64LE(p) === value) at.push(p);
  return at;
}

describe('readArtifact on damaged and crafted files', () => {
  it.each([
    ['Schema', 1],
    ['DictionaryBatch', 2],
  ])('rejects a record batch block whose message says %s (apache-arrow restarts its batch loop forever on it)', async (_name, type) => {
    const file = join(dir, 'metrics.arrow');
    await writeArtifact(file, 'metrics', SAMPLES.metrics());
    const bytes = readFileSync(file);
    // lth files hold the first record batch message at offset 8: continuation marker, length,
    // then the flatbuffer Message, whose field 1 is the header type.
    const fb = 16;
    const table = fb + bytes.readInt32LE(fb);
    const vtable = table - bytes.readInt32LE(table);
    bytes[table + bytes.readInt16LE(vtable + 6)] = type;
    const crafted = join(dir, `header-type-${type}.arrow`);
    writeFileSync(crafted, bytes);
    const end = await runIsolated(['read', 'metrics', crafted], LIMITS);
    expect({ code: end.code, why: end.code === 0 ? '' : describeEnd(end) }).toEqual({ code: 0, why: '' });
    const [outcome] = JSON.parse(end.stdout) as Array<{ outcome: string; message: string }>;
    expect(outcome).toMatchObject({ outcome: 'rejected' });
    expect(outcome!.message).toContain(`${crafted}: corrupted Arrow IPC file: record batch 0: block does not point at a record batch message`);
  });

  it('rejects row counts and field lengths of 2^40 (apache-arrow allocates them)', async () => {
    const file = join(dir, 'sparsity.arrow');
    const rows = Array.from({ length: 37 }, (_, i) => ({ layer: `l${i}`, role: 'fc' as const, total: 10, remaining: 5 }));
    await writeArtifact(file, 'sparsity', { meta: { total: 370, remaining: 185, fraction: 0.5 }, layers: rows.map((l) => ({ ...l, fraction: 0.5 })) });
    const bytes = readFileSync(file);
    const spots = findInt64(bytes, 37n, 8, bytes.length - 10);
    expect(spots.length).toBeGreaterThan(0);
    for (const p of spots) bytes.writeBigInt64LE(1n << 40n, p);
    const crafted = join(dir, 'huge-rows.arrow');
    writeFileSync(crafted, bytes);
    const end = await runIsolated(['read', 'sparsity', crafted], LIMITS);
    expect({ code: end.code, why: end.code === 0 ? '' : describeEnd(end) }).toEqual({ code: 0, why: '' });
    const [outcome] = JSON.parse(end.stdout) as Array<{ outcome: string; message: string }>;
    expect(outcome).toMatchObject({ outcome: 'rejected' });
    expect(outcome!.message).toMatch(new RegExp(`^ArtifactError: ${crafted.replace(/[.]/g, '\\.')}: corrupted Arrow IPC file: `));
  });

  it(`fuzz: ${PER_KIND} seeded mutations of every kind are each rejected with an ArtifactError naming the file, or read well-formed`, async () => {
    const end = await runIsolated(['fuzz', dir, String(SEED), String(PER_KIND)], LIMITS);
    expect({ code: end.code, why: end.code === 0 ? '' : describeEnd(end) }).toEqual({ code: 0, why: '' });
    const report = JSON.parse(end.stdout) as FuzzReport;
    expect(report.failures).toEqual([]);
    expect(report.tried).toBe(5 * PER_KIND);
    expect(report.rejected + report.read).toBe(report.tried);
    for (const [kind, c] of Object.entries(report.perKind)) {
      // Both outcomes occur for every kind: the mutations reach the structure, and the
      // checks do not refuse harmless changes (a byte of a float value) wholesale.
      expect({ kind, rejected: c.rejected > 0, read: c.read > 0 }).toEqual({ kind, rejected: true, read: true });
    }
    console.log(`artifact fuzz (seed ${SEED}): ${report.tried} mutations, ${report.rejected} rejected, ${report.read} read; ${JSON.stringify(report.perKind)}`);
  });
});
