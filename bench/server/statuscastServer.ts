/**
 * The statuscast server under test, in its own process: the real composition root
 * (`startServer`) with an embedded SQLite store in a fresh temporary DATA_DIR (or the
 * PostgreSQL store when `BENCH_SERVER_ENV` names a `DATABASE_URL`), driven over IPC
 * by the benchmark runner. Besides the shared measurement handlers it mints dev tokens, reports
 * connection counts, and runs the store-only and no-HTTP ingest measurements in-process.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { mintDevToken } from '../../src/auth/mintDevToken.ts';
import { loadConfig } from '../../src/config.ts';
import { startServer, type RunningServer } from '../../src/server.ts';
import { createPostgresEventStore } from '../../src/store/postgres/index.ts';
import { createSqliteEventStore } from '../../src/store/sqlite/createSqliteEventStore.ts';
import type { EventStore, NewEvent } from '../../src/store/eventStore.ts';
import { now } from '../lib/clock.ts';
import { Histogram } from '../lib/histogram.ts';
import { send, serveIpc } from '../lib/ipcChild.ts';
import { harnessHandlers } from './harness.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'statuscast-bench-'));
const extraEnv = JSON.parse(process.env['BENCH_SERVER_ENV'] ?? '{}') as Record<string, string>;
let server: RunningServer | undefined;

async function main(): Promise<void> {
  // Every load client is the one bench user: lift the per-user bounds a real deployment keeps.
  const config = loadConfig({
    DATA_DIR: dataDir,
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    MAX_CONNECTIONS_PER_USER: '1000000',
    MAX_SUBSCRIPTIONS_PER_USER: '10000000',
    ...extraEnv,
  });
  // Warnings (slow consumers, failures) go to stderr, where the runner keeps the last lines.
  const logger = pino({ level: config.logLevel }, pino.destination(2));
  server = await startServer(config, { logger });
  const running = server;

  serveIpc(
    {
      ...harnessHandlers(),
      token: (m) => mintDevToken(running.devKeys!, { sub: String(m['sub']), roles: (m['roles'] as string[]) ?? [] }),
      counts: async () => {
        const head = await running.store.headPosition();
        const gauge = await running.metrics.connections.get();
        const byTransport = Object.fromEntries(gauge.values.map((v) => [String(v.labels['transport']), v.value]));
        return {
          connections: byTransport,
          hubConnections: running.signalr.connectionCount,
          liveSubscribers: running.liveFeed.subscriberCount,
          feedPosition: Number(running.liveFeed.position?.commit ?? 0n),
          head: Number(head?.commit ?? 0n),
        };
      },
      /** Selected counters from the service's own metrics (slow-consumer closes, messages sent). */
      metricValues: async () => {
        const out: Record<string, number> = {};
        for (const metric of await running.metrics.registry.getMetricsAsJSON()) {
          if (!['statuscast_slow_consumer_closes_total', 'statuscast_messages_sent_total', 'statuscast_ingest_messages_total'].includes(metric.name)) continue;
          for (const value of metric.values) {
            const labels = Object.values(value.labels ?? {}).join(',');
            out[`${metric.name}{${labels}}`] = value.value;
          }
        }
        return out;
      },
      /** Appends through the in-process ingest function (no HTTP): `count` messages to one job. */
      seed: async (m) => {
        const jobId = String(m['jobId']);
        const count = Number(m['count']);
        const batch = Number(m['batch'] ?? 500);
        let appended = 0;
        while (appended < count) {
          const size = Math.min(batch, count - appended);
          const messages = Array.from({ length: size }, (_, i) => seedMessage(jobId, appended + i, String(m['userId'] ?? 'bench-user')));
          const results = await running.ingest({ messages }, { source: 'http', ingestedBy: 'bench-seed' });
          for (const r of results) if (r.outcome !== 'appended') throw new Error(`seed: ${JSON.stringify(r)}`);
          appended += size;
        }
        return { appended };
      },
      storeBench: (m) => storeBench(running, m),
    },
    async () => {
      await server?.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  );
  send('ready', { url: running.url, port: running.port, pid: process.pid, dataDir });
}

function seedMessage(jobId: string, n: number, userId: string): Record<string, unknown> {
  return {
    message_id: `seed-${jobId}-${n}`,
    job_id: jobId,
    user_id: userId,
    stage: 'processing',
    state: 'running',
    message: `seeded step ${n}`,
    progress: (n % 100) / 100,
    cycle: 1,
    details: { n },
    ts: new Date(Date.UTC(2026, 0, 1) + n).toISOString(),
  };
}

/**
 * Appends without HTTP for `durationMs`, `concurrency` callers at a time, to see what HTTP
 * costs: `store` calls `appendToStreams` (each caller its own stream), `ingest` calls the
 * ingest function (validation, decide, append), `store-normal` uses a second store on the
 * same disk with `synchronous=NORMAL` (on PostgreSQL: the same database with
 * `synchronous_commit=off`) to show what the fsync costs.
 */
async function storeBench(running: RunningServer, m: Record<string, any>) {
  const mode = String(m['mode']) as 'store' | 'ingest' | 'store-normal';
  const concurrency = Number(m['concurrency']);
  const batch = Number(m['batch']);
  const durationMs = Number(m['durationMs']);
  const tag = randomUUID().slice(0, 8);
  let store: EventStore = running.store;
  let ownStore: EventStore | undefined;
  if (mode === 'store-normal') {
    const postgres = running.config.postgres;
    if (postgres) {
      const url = new URL(postgres.url);
      url.searchParams.set('options', '-c synchronous_commit=off');
      ownStore = await createPostgresEventStore({ connectionString: url.toString(), poolMax: postgres.poolMax });
    } else {
      ownStore = createSqliteEventStore({ file: join(dataDir, `normal-${tag}.sqlite`), sync: 'normal' });
    }
    store = ownStore;
  }
  const latency = new Histogram();
  let events = 0;
  const started = now();
  const deadline = started + durationMs;
  const payload = { stage: 'processing', state: 'running', message: 'store bench', progress: 0.5, details: { n: 1 } };

  async function caller(index: number): Promise<void> {
    const jobId = `sb-${tag}-${index}`;
    let n = 0;
    while (now() < deadline) {
      const t0 = now();
      if (mode === 'ingest') {
        const messages = Array.from({ length: batch }, () => ({
          message_id: `${jobId}-${n++}`, job_id: jobId, user_id: 'bench-user', ...payload, ts: new Date().toISOString(),
        }));
        const results = await running.ingest(batch === 1 ? messages[0] : { messages }, { source: 'http', ingestedBy: 'bench' });
        for (const r of results) if (r.outcome !== 'appended') throw new Error(`ingest: ${JSON.stringify(r)}`);
      } else {
        const list: NewEvent[] = Array.from({ length: batch }, () => ({
          id: randomUUID(), type: 'BenchAppended', data: { job_id: jobId, ...payload, n: n++ }, metadata: {},
        }));
        // Not a `job-` stream: the live feed and the projections skip it, as they skip any foreign stream.
        await store.appendToStreams([{ stream: `bench-${jobId}`, events: list, expectedRevision: 'any' }]);
      }
      latency.record(now() - t0);
      events += batch;
    }
  }
  await Promise.all(Array.from({ length: concurrency }, (_, i) => caller(i)));
  const elapsed = now() - started;
  await ownStore?.close();
  return { mode, concurrency, batch, durationMs: Math.round(elapsed), events, eventsPerSecond: Math.round(events / (elapsed / 1000)), latencyMs: latency.summary() };
}

main().catch((error) => {
  send('failed', { error: error instanceof Error ? error.stack : String(error) });
  rmSync(dataDir, { recursive: true, force: true });
  process.exit(1);
});
