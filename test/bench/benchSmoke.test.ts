import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { BenchResults } from '../../bench/report/results.ts';
import { BENCH_VERSION, statuscastIntegrity } from '../../bench/report/results.ts';
import { checkTargets, TARGET_ROWS, targetFigures } from '../../bench/report/targets.ts';
import { runTs } from '../support/childProcess.ts';

// Keeps `npm run bench` working: every scenario runs end to end with tiny numbers. It
// checks what the scripts produce and that no client saw a gap or a duplicate; it never
// judges a speed (figures come from `npm run bench` on a quiet machine).
describe('npm run bench -- --smoke', () => {
  const out = mkdtempSync(join(tmpdir(), 'statuscast-bench-smoke-'));
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it('runs every scenario against statuscast and both peers and writes a results file', { timeout: 240_000 }, async () => {
    const run = await runTs('bench/run.ts', ['--smoke', '--out', out, '--no-doc'], {});
    expect(run.code, run.stdout + run.stderr).toBe(0);

    const files = readdirSync(out).filter((name) => name.endsWith('-smoke.json'));
    expect(files).toHaveLength(1);
    const results = JSON.parse(readFileSync(join(out, files[0]!), 'utf8')) as BenchResults;
    expect(Object.keys(results.results).sort()).toEqual(
      ['auditorExport', 'capacity', 'fanout', 'ingest', 'ingestPostgres', 'manyJobs', 'manyJobsPostgres', 'officialClients', 'reconnectStorm'],
    );
    for (const [name, result] of Object.entries(results.results)) expect(result, name).not.toHaveProperty('error');

    const systems = results.results.fanout && 'sizes' in results.results.fanout
      ? results.results.fanout.sizes[0]!.runs.map((r) => r.system).sort()
      : [];
    expect(systems).toEqual(['socketio', 'statuscast', 'ws']);

    // Bench version 2: the same-rate search on raw ws, capacity at each count asked, the targets table.
    expect(results.benchVersion).toBe(BENCH_VERSION);
    const fan = results.results.fanout && 'sizes' in results.results.fanout ? results.results.fanout.sizes[0]! : undefined;
    const ws = fan?.runs.find((r) => r.system === 'ws');
    expect(ws?.rateSearch?.probes.length).toBeGreaterThan(0);
    for (const run of fan?.runs ?? []) expect(run.sustained?.rate, run.system).toBe(ws?.rateSearch?.rate);
    const capacity = results.results.capacity && 'runs' in results.results.capacity ? results.results.capacity : undefined;
    expect(new Set(capacity?.runs.map((r) => r.requested)).size).toBe(results.settings.capacity.counts.length);
    // Every target row is there; the fan-out rows name 1,000–10,000 connections, which a smoke run has not.
    expect(checkTargets(results)).toHaveLength(TARGET_ROWS.length);
    expect(Object.keys(targetFigures(results))).toEqual(
      expect.arrayContaining(['manyJobs.ratio', 'ingest.single', 'ingest.batch', 'capacity.rss.signalr-ws', 'capacity.rss.signalr-lp', 'storm.ms', 'storm.peakRssRatio', 'integrity.faults']),
    );

    const integrity = statuscastIntegrity(results);
    expect(integrity.runs).toBeGreaterThan(0);
    expect({ gaps: integrity.gaps, duplicates: integrity.duplicates, undelivered: integrity.undelivered }).toEqual({ gaps: 0, duplicates: 0, undelivered: 0 });
  });
});
