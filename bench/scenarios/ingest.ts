/**
 * Scenario 1, ingest: durable appends per second through `POST /ingest/status` (64 concurrent
 * single-message requests; batches of 100), then the same without HTTP — the ingest function
 * in-process and the store's `appendToStreams` alone — and the store without a flush per
 * commit (SQLite `synchronous=NORMAL`, PostgreSQL `synchronous_commit=off`) to show what the
 * fsync costs. `ingestPostgres` is the same on the PostgreSQL store (a fresh database on the
 * machine's server). Run alone: `npx tsx bench/scenarios/ingest.ts [--quick|--smoke]`.
 */
import { join } from 'node:path';
import type { BenchContext } from '../lib/context.ts';
import type { ProfileSummary } from '../lib/cpuProfile.ts';
import type { LatencySummary } from '../lib/histogram.ts';
import { withBenchDatabase } from '../lib/postgres.ts';
import { startStatuscast } from '../lib/systems.ts';
import type { PhaseStats } from '../server/harness.ts';
import { runAlone } from './runAlone.ts';

export interface IngestFigure {
  readonly label: string;
  readonly path: 'http' | 'ingest-function' | 'store' | 'store-sync-normal';
  readonly concurrency: number;
  readonly batch: number;
  readonly eventsPerSecond: number;
  readonly requestsPerSecond?: number;
  readonly latencyMs: LatencySummary;
  readonly server?: PhaseStats;
  readonly clientCpuPercent?: number;
  readonly errors?: number;
}

export type BenchStore = 'sqlite' | 'postgres';

export interface IngestResult {
  /** Absent in results written before PostgreSQL joined: SQLite. */
  readonly store?: BenchStore;
  /** SQLite's durability setting for the main figures (PostgreSQL: `synchronous_commit=on`). */
  readonly storeSync: 'full';
  readonly figures: readonly IngestFigure[];
  readonly profile?: ProfileSummary;
}

export function ingest(ctx: BenchContext): Promise<IngestResult> {
  return ingestOn(ctx, 'sqlite', {});
}

export function ingestPostgres(ctx: BenchContext): Promise<IngestResult> {
  return withBenchDatabase((url) => ingestOn(ctx, 'postgres', { DATABASE_URL: url }));
}

async function ingestOn(ctx: BenchContext, store: BenchStore, env: Record<string, string>): Promise<IngestResult> {
  const { phaseMs, singleConcurrency, batchSize, batchConcurrency } = ctx.profile.ingest;
  const sut = await startStatuscast({ env, name: store === 'postgres' ? 'statuscast-postgres' : 'statuscast' });
  const worker = ctx.pool.workers[0]!;
  const figures: IngestFigure[] = [];
  let profile: ProfileSummary | undefined;
  try {
    const http = async (label: string, concurrency: number, batch: number, durationMs: number, record = true, profiled = false) => {
      await sut.child.request('phase');
      await worker.request('phase');
      if (profiled) await sut.child.request('profileStart');
      const r = await worker.request<any>(
        'ingest',
        { url: sut.url, token: sut.publisherToken, concurrency, batch, durationMs, jobPrefix: `${label}-${Date.now()}`, jobsPerCaller: batch === 1 ? 4 : 10 },
        durationMs + 120_000,
      );
      const server = await sut.child.request<PhaseStats>('phaseStats');
      if (profiled) {
        profile = await sut.child.request<ProfileSummary>('profileStop', { file: join(ctx.profileDir, 'ingest-batch.cpuprofile'), root: process.cwd() });
      }
      const client = await worker.request<{ cpuPercent: number }>('stats');
      if (!record) return;
      const errors = r.requests - (r.statuses['202'] ?? 0) + r.notAppended;
      figures.push({
        label, path: 'http', concurrency, batch, eventsPerSecond: r.eventsPerSecond, requestsPerSecond: r.requestsPerSecond,
        latencyMs: r.latencyMs, server, clientCpuPercent: client.cpuPercent, errors,
      });
      ctx.log(`    HTTP ${label}: ${r.eventsPerSecond} events/s (${r.requestsPerSecond} req/s), p50 ${r.latencyMs.p50} ms, p99 ${r.latencyMs.p99} ms, server CPU ${server.cpuPercent}%, client CPU ${client.cpuPercent}%${errors ? `, ${errors} errors` : ''}`);
    };
    const inProcess = async (label: string, mode: 'store' | 'ingest' | 'store-normal', concurrency: number, batch: number) => {
      const r = await sut.child.request<any>('storeBench', { mode, concurrency, batch, durationMs: phaseMs }, phaseMs + 120_000);
      const path = mode === 'ingest' ? 'ingest-function' : mode === 'store' ? 'store' : 'store-sync-normal';
      figures.push({ label, path, concurrency, batch, eventsPerSecond: r.eventsPerSecond, latencyMs: r.latencyMs });
      ctx.log(`    ${path} ${label}: ${r.eventsPerSecond} events/s, p50 ${r.latencyMs.p50} ms, p99 ${r.latencyMs.p99} ms`);
    };

    // Warm-up (JIT, connection pools), not recorded.
    await http('warm-up', singleConcurrency, 1, Math.max(300, phaseMs / 4), false);
    await http('single', singleConcurrency, 1, phaseMs);
    await http(`batch-${batchSize}`, batchConcurrency, batchSize, phaseMs);
    await inProcess('single', 'ingest', singleConcurrency, 1);
    await inProcess(`batch-${batchSize}`, 'ingest', batchConcurrency, batchSize);
    await inProcess('single', 'store', singleConcurrency, 1);
    await inProcess(`batch-${batchSize}`, 'store', batchConcurrency, batchSize);
    await inProcess('single', 'store-normal', singleConcurrency, 1);
    await inProcess(`batch-${batchSize}`, 'store-normal', batchConcurrency, batchSize);
    if (ctx.cpuProfile && store === 'sqlite') {
      ctx.log('    profiling HTTP batch ingest');
      await http(`batch-${batchSize}-profiled`, batchConcurrency, batchSize, phaseMs, false, true);
    }
  } finally {
    await sut.stop();
  }
  return { store, storeSync: 'full', figures, ...(profile ? { profile } : {}) };
}

runAlone(import.meta.url, 'ingest');
