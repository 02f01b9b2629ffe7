import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BENCH_VERSION, type BenchResults } from '../../bench/report/results.ts';
import { committedFile, historyFor, isCommittable, runsDir, writeCommitted } from '../../bench/report/store.ts';
import { checkTargets } from '../../bench/report/targets.ts';

// The committed results file keeps one run per bench version in full and the target figures
// of the other full runs, so the spread on docs/benchmarks.md can be rebuilt from it alone.
function run(startedAt: string, over: Partial<BenchResults> = {}, ingestPerSecond = 4_000): BenchResults {
  return {
    schema: 2,
    benchVersion: BENCH_VERSION,
    mode: 'full',
    complete: true,
    startedAt,
    finishedAt: startedAt,
    durationSeconds: 900,
    machine: { cpuModel: 'x', cores: 2, memoryGiB: 1, node: 'v20', os: 'linux', gitCommit: 'abc', gitDirty: false, openFiles: { soft: 1024, hard: 1024 } },
    conditions: { loadBefore: [0, 0, 0], loadAfter: [0, 0, 0], scenarios: {} },
    settings: {} as BenchResults['settings'],
    results: {
      ingest: { figures: [{ path: 'http', batch: 1, concurrency: 64, eventsPerSecond: ingestPerSecond }] } as unknown as NonNullable<BenchResults['results']['ingest']>,
    },
    ...over,
  };
}

describe('bench results store', () => {
  const root = mkdtempSync(join(tmpdir(), 'statuscast-bench-store-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('commits only full runs of every scenario, and keeps the others as history for the spread', () => {
    expect(isCommittable(run('2026-01-01T00:00:00.000Z', { mode: 'quick' }))).toBe(false);
    expect(isCommittable(run('2026-01-01T00:00:00.000Z', { complete: false }))).toBe(false);
    expect(isCommittable(run('2026-01-01T00:00:00.000Z', { benchVersion: BENCH_VERSION - 1 }))).toBe(false);

    const first = run('2026-01-01T00:00:00.000Z', {}, 4_000);
    writeCommitted(first, root);
    // A full run left in runs/ (not committed) counts too; a quick one does not.
    mkdirSync(runsDir(root), { recursive: true });
    writeFileSync(join(runsDir(root), '2026-01-02T00-00-00Z.json'), JSON.stringify(run('2026-01-02T00:00:00.000Z', {}, 6_000)));
    writeFileSync(join(runsDir(root), '2026-01-02T01-00-00Z-quick.json'), JSON.stringify(run('2026-01-02T01:00:00.000Z', { mode: 'quick' }, 99_000)));
    const third = run('2026-01-03T00:00:00.000Z', {}, 5_000);
    writeCommitted(third, root);

    const committed = JSON.parse(readFileSync(committedFile(root), 'utf8')) as BenchResults;
    expect(committed.startedAt).toBe(third.startedAt);
    expect(committed.history?.map((h) => h.startedAt)).toEqual(['2026-01-01T00:00:00.000Z', '2026-01-02T00:00:00.000Z']);
    expect(committed.history?.map((h) => h.figures['ingest.single'])).toEqual([4_000, 6_000]);
    expect(historyFor(committed, root)).toHaveLength(2);

    const ingestRow = checkTargets(committed, committed.history!.map((h) => h.figures)).find((r) => r.figure.startsWith('ingest over HTTP, single'))!;
    expect(ingestRow.spread).toBe('4,000/s–6,000/s (3 runs)');
    expect(ingestRow.verdict).toBe('missed');
    expect(existsSync(join(root, 'bench', 'results', `v${BENCH_VERSION}.json`))).toBe(true);
  });
});
