import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeArtifact } from '@lth/artifacts';
import { reportFromRunRecord, runInfoFromRecord, type ReportedRun } from './index';
import { scenario, sparsity, PM } from './__tests__/fixtures';

describe('reports from a run record', () => {
  it('reads the bound artifacts and states dates, durations and cache hits', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lth-report-record-'));
    const { tickets, reinit } = scenario({ remainingOnTickets: false });
    const stages: ReportedRun['stages'] = [];
    // One seed: dense + rounds 1..3, each round with a prune (sparsity) and a reinit control.
    await writeArtifact(join(dir, 'dense.arrow'), 'metrics', tickets[0]!);
    stages.push({ id: 'dense', status: 'cached', durationMs: 5, outputs: { metrics: join(dir, 'dense.arrow') } });
    for (let r = 1; r <= 3; r++) {
      await writeArtifact(join(dir, `t${r}.arrow`), 'metrics', tickets[r]!);
      await writeArtifact(join(dir, `c${r}.arrow`), 'metrics', reinit[r - 1]!);
      await writeArtifact(join(dir, `s${r}.arrow`), 'sparsity', sparsity(PM[r]!));
      stages.push({ id: `round[${r}].train`, status: r < 3 ? 'cached' : 'ran', durationMs: 1000, outputs: { metrics: join(dir, `t${r}.arrow`) } });
      stages.push({ id: `round[${r}].control`, status: 'ran', durationMs: 1000, outputs: { metrics: join(dir, `c${r}.arrow`) } });
      stages.push({ id: `round[${r}].prune`, status: 'ran', durationMs: 10, outputs: { mask: 'x', sparsity: join(dir, `s${r}.arrow`) } });
    }
    const rounds = [1, 2, 3];
    const record: ReportedRun = {
      name: 'quickstart',
      startedAt: '2026-03-01T12:00:00.000Z',
      finishedAt: '2026-03-01T12:03:00.000Z',
      durationMs: 180000,
      backend: 'wasm',
      params: { rounds: 3 },
      versions: { node: 'v20' },
      pipeline: [
        {
          id: 'report',
          uses: 'report/lottery',
          config: { title: 'Quickstart', rate: 0.2 },
          inputs: {
            tickets: [{ stage: 'dense', port: 'metrics' }, ...rounds.map((r) => ({ stage: `round[${r}].train`, port: 'metrics' }))],
            ticketSparsity: rounds.map((r) => ({ stage: `round[${r}].prune`, port: 'sparsity' })),
            reinit: rounds.map((r) => ({ stage: `round[${r}].control`, port: 'metrics' })),
          },
        },
      ],
      stages,
    };
    expect(runInfoFromRecord(record)).toMatchObject({ stagesRun: 7, cacheHits: 3, durationMs: 180000, backend: 'wasm' });
    // training time comes from the record (metrics artifacts hold no durations): computeMs of trainer stages
    const timed = { ...record, stages: [...stages, { id: 'extra', uses: 'trainer/train', status: 'cached', computeMs: 1500, outputs: {} }] };
    expect(runInfoFromRecord(timed).trainingMs).toBe(1500);
    const out = join(dir, 'out');
    const [r] = await reportFromRunRecord(record, out);
    expect(r!.table.rows.map((x) => x['pm'])).toEqual([1, 0.8, 0.64, 0.512, 1, 0.8, 0.64, 0.512]);
    const md = readFileSync(join(out, 'report.md'), 'utf8');
    expect(md).toContain('# Quickstart');
    expect(md).toContain('**Stages**: 7 ran, 3 from the cache');
    expect(md).toContain('**Cache hits**: dense, round\\[1\\].train, round\\[2\\].train'); // '[' escaped: inputs never form links
    expect(md).toContain('**Duration**: 3 min 0 s');
    expect(md).toContain('2026-03-01T12:03:00.000Z');
    expect(existsSync(join(out, 'report.html'))).toBe(true);

    record.stages = stages.filter((s) => s.id !== 'round[2].control');
    await expect(reportFromRunRecord(record, out)).rejects.toThrow(/report.reinit is bound to round\[2\].control.metrics, which has no output file/);
  });
});
