/**
 * Scenario 6, auditor export: `GET /jobs/{id}/history` as NDJSON for a 100,000-event stream
 * (the raw audit trail, every event type), read to the end by a client that counts lines.
 * Run alone: `npx tsx bench/scenarios/auditorExport.ts [--quick|--smoke]`.
 */
import { join } from 'node:path';
import type { BenchContext } from '../lib/context.ts';
import type { ProfileSummary } from '../lib/cpuProfile.ts';
import { startStatuscast } from '../lib/systems.ts';
import { BENCH_USER } from '../lib/payload.ts';
import type { PhaseStats } from '../server/harness.ts';
import { runAlone } from './runAlone.ts';

export interface ExportPass {
  readonly lines: number;
  readonly bytes: number;
  readonly ms: number;
  readonly firstByteMs: number;
  readonly eventsPerSecond: number;
  readonly megabytesPerSecond: number;
  readonly firstRevision: number;
  readonly lastRevision: number;
  readonly server: PhaseStats;
}

export interface ExportResult {
  readonly events: number;
  readonly seedEventsPerSecond: number;
  readonly passes: readonly ExportPass[];
  /** The median pass. */
  readonly median: ExportPass;
  readonly complete: boolean;
  readonly profile?: ProfileSummary;
}

export async function auditorExport(ctx: BenchContext): Promise<ExportResult> {
  const { events, repeats } = ctx.profile.export;
  const sut = await startStatuscast();
  const worker = ctx.pool.workers[0]!;
  try {
    const jobId = 'audit-1';
    const t0 = Date.now();
    await sut.child.request('seed', { jobId, count: events, batch: 500, userId: BENCH_USER }, 600_000);
    const seedEventsPerSecond = Math.round(events / ((Date.now() - t0) / 1000));
    ctx.log(`    seeded ${events} events (${seedEventsPerSecond}/s through the ingest function)`);
    const passes: ExportPass[] = [];
    let profile: ProfileSummary | undefined;
    const runs = repeats + (ctx.cpuProfile ? 1 : 0);
    for (let i = 0; i < runs; i++) {
      const profiled = ctx.cpuProfile && i === runs - 1;
      await sut.child.request('phase');
      if (profiled) await sut.child.request('profileStart');
      const pass = await worker.request<Omit<ExportPass, 'server'>>('exportStream', { url: sut.url, token: sut.userToken, jobId }, 600_000);
      const server = await sut.child.request<PhaseStats>('phaseStats');
      if (profiled) {
        profile = await sut.child.request<ProfileSummary>('profileStop', { file: join(ctx.profileDir, 'export.cpuprofile'), root: process.cwd() });
        ctx.log(`    profiled pass: ${pass.eventsPerSecond} events/s`);
        continue;
      }
      passes.push({ ...pass, server });
      ctx.log(`    export: ${pass.lines} lines, ${Math.round(pass.bytes / 1e6)} MB in ${pass.ms} ms = ${pass.eventsPerSecond} events/s (${pass.megabytesPerSecond} MB/s), server CPU ${server.cpuPercent}%`);
    }
    const sorted = [...passes].sort((a, b) => a.eventsPerSecond - b.eventsPerSecond);
    const median = sorted[Math.floor(sorted.length / 2)]!;
    // Revision 0 is JobRegistered; the seed's first message registers the job, so N messages are N + 1 events.
    const complete = passes.every((p) => p.lines === events + 1 && p.firstRevision === 0 && p.lastRevision === events);
    return { events, seedEventsPerSecond, passes, median, complete, ...(profile ? { profile } : {}) };
  } finally {
    await sut.stop();
  }
}

runAlone(import.meta.url, 'auditorExport');
