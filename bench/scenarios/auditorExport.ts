/**
 * Scenario 6, auditor export: `GET /jobs/{id}/history` as NDJSON for a 100,000-event stream
 * (the raw audit trail, every event type, with its chain hashes and signed checkpoint), read
 * to the end by a client that counts lines; then the saved export verified offline as
 * `npm run verify` does it (docs/audit.md).
 * Run alone: `npx tsx bench/scenarios/auditorExport.ts [--quick|--smoke]`.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Jwks } from '../../src/audit/auditKeys.ts';
import { verifyExportFile } from '../../src/audit/verifyExport.ts';
import { now } from '../lib/clock.ts';
import type { BenchContext } from '../lib/context.ts';
import type { ProfileSummary } from '../lib/cpuProfile.ts';
import { startStatuscast } from '../lib/systems.ts';
import { BENCH_USER } from '../lib/payload.ts';
import type { PhaseStats } from '../server/harness.ts';
import { runAlone } from './runAlone.ts';

export interface ExportPass {
  /** Event lines (the checkpoint line not counted). */
  readonly lines: number;
  readonly bytes: number;
  readonly ms: number;
  readonly firstByteMs: number;
  readonly eventsPerSecond: number;
  readonly megabytesPerSecond: number;
  readonly firstRevision: number;
  readonly lastRevision: number;
  /** The export ended with its signed checkpoint line. */
  readonly checkpointed: boolean;
  readonly server: PhaseStats;
}

/** One offline verification of the saved export (`verifyExportFile`, what `npm run verify` runs). */
export interface VerifyPass {
  readonly events: number;
  readonly bytes: number;
  readonly ms: number;
  readonly eventsPerSecond: number;
  readonly verified: boolean;
}

export interface ExportResult {
  readonly events: number;
  readonly seedEventsPerSecond: number;
  readonly passes: readonly ExportPass[];
  /** The median pass. */
  readonly median: ExportPass;
  readonly complete: boolean;
  /** Offline verification passes of one saved export, and the median. */
  readonly verify?: { readonly passes: readonly VerifyPass[]; readonly median: VerifyPass };
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
    const complete = passes.every((p) => p.lines === events + 1 && p.firstRevision === 0 && p.lastRevision === events && p.checkpointed);
    const verify = await verifyPasses(ctx, sut.url, sut.userToken, jobId, repeats, worker);
    const m = verify.median;
    ctx.log(`    verify: ${m.events} events, ${Math.round(m.bytes / 1e6)} MB in ${m.ms} ms = ${m.eventsPerSecond} events/s, verified: ${m.verified}`);
    return { events, seedEventsPerSecond, passes, median, complete, verify, ...(profile ? { profile } : {}) };
  } finally {
    await sut.stop();
  }
}

/** Saves one export to a file, then verifies it offline `repeats` times in this process. */
async function verifyPasses(
  ctx: BenchContext,
  url: string,
  token: string,
  jobId: string,
  repeats: number,
  worker: BenchContext['pool']['workers'][number],
): Promise<{ passes: VerifyPass[]; median: VerifyPass }> {
  const dir = mkdtempSync(join(tmpdir(), 'statuscast-bench-export-'));
  try {
    const file = join(dir, `${jobId}.ndjson`);
    const saved = await worker.request<{ lines: number }>('exportStream', { url, token, jobId, saveTo: file }, 600_000);
    const jwks = (await (await fetch(`${url}/.well-known/statuscast-audit-keys.json`)).json()) as Jwks;
    const bytes = statSync(file).size;
    const passes: VerifyPass[] = [];
    for (let i = 0; i < repeats; i++) {
      const started = now();
      const verdict = await verifyExportFile(file, { jwks });
      const ms = now() - started;
      if (!verdict.ok) ctx.log(`    verify failed: revision ${verdict.revision}: ${verdict.reason} (${verdict.detail})`);
      passes.push({ events: saved.lines, bytes, ms: Math.round(ms), eventsPerSecond: Math.round(saved.lines / (ms / 1000)), verified: verdict.ok });
    }
    const sorted = [...passes].sort((a, b) => a.eventsPerSecond - b.eventsPerSecond);
    return { passes, median: sorted[Math.floor(sorted.length / 2)]! };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

runAlone(import.meta.url, 'auditorExport');
