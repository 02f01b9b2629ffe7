import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.ts';
import { jobStreamName } from '../../src/domain/job/events.ts';
import { appendInTransaction } from '../../src/store/postgres/appendInTransaction.ts';
import { runTs } from '../support/childProcess.ts';
import { createTestDatabase, type TestDatabase } from '../support/postgresDatabase.ts';
import { openSse, type SseConnection } from '../support/sseReader.ts';
import { type TestServer, eventually, startTestServer, status } from '../support/testServer.ts';

/** Timeline revisions of one job an SSE connection delivered, in arrival order. */
function revisionsOf(sse: SseConnection, jobId?: string): number[] {
  return sse.events.flatMap((e) => {
    if (e.event === 'timeline.bulk') return (JSON.parse(e.data).events as { revision: number }[]).map((x) => x.revision);
    if (e.event !== 'timeline.event') return [];
    const data = JSON.parse(e.data) as { job_id: string; event: { revision: number } };
    return jobId === undefined || data.job_id === jobId ? [data.event.revision] : [];
  });
}

/** `job@revision` of every live event a feed connection delivered. */
function feedEvents(sse: SseConnection): string[] {
  return sse.events.filter((e) => e.event === 'timeline.event').map((e) => {
    const data = JSON.parse(e.data) as { job_id: string; event: { revision: number } };
    return `${data.job_id}@${data.event.revision}`;
  });
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('configuration of the PostgreSQL store', () => {
  it('accepts DATABASE_URL with its pool bounds, and refuses it next to EVENTSTORE_CONNECTION_STRING or as another scheme', () => {
    const config = loadConfig({ DATABASE_URL: 'postgres://app@db:5432/statuscast', DATABASE_POOL_MAX: '20', DATABASE_STATEMENT_TIMEOUT_MS: '2000' });
    expect(config.postgres).toEqual({ url: 'postgres://app@db:5432/statuscast', poolMax: 20, statementTimeoutMs: 2000 });
    expect(loadConfig({}).postgres).toBeUndefined();
    expect(() => loadConfig({ DATABASE_URL: 'postgres://db/x', EVENTSTORE_CONNECTION_STRING: 'esdb://es:2113' })).toThrow(
      /DATABASE_URL and EVENTSTORE_CONNECTION_STRING name two event stores/,
    );
    expect(() => loadConfig({ DATABASE_URL: 'mysql://db/x' })).toThrow(ConfigError);
    expect(() => loadConfig({ DATABASE_URL: 'postgres://db/x', DATABASE_POOL_MAX: '0' })).toThrow(/DATABASE_POOL_MAX/);
  });

  it('npm run migrate brings a database to the newest schema, then reports it up to date', async () => {
    const database = await createTestDatabase();
    try {
      const first = await runTs('src/cli/migrate.ts', [], { DATABASE_URL: database.url });
      expect(first.code).toBe(0);
      expect(first.stdout).toMatch(/^applied migrations 1, 2; schema is at version 2$/m);
      const second = await runTs('src/cli/migrate.ts', [], { DATABASE_URL: database.url });
      expect(second.stdout).toMatch(/^schema is up to date \(version 2\)$/m);
      const without = await runTs('src/cli/migrate.ts', [], { DATABASE_URL: '' });
      expect(without.code).toBe(2);
      expect(without.stderr).toMatch(/DATABASE_URL is not set/);
    } finally {
      await database.drop();
    }
  });
});

describe('statuscast on PostgreSQL', () => {
  let database: TestDatabase;
  let t: TestServer;
  let alice: string;
  const streams: SseConnection[] = [];
  const open = async (path: string, headers: Record<string, string> = {}) => {
    const sse = await openSse(`${t.url}${path}`, { authorization: `Bearer ${alice}`, ...headers });
    expect(sse.status).toBe(200);
    streams.push(sse);
    return sse;
  };

  beforeAll(async () => {
    database = await createTestDatabase();
    t = await startTestServer({ DATABASE_URL: database.url, DATABASE_STATEMENT_TIMEOUT_MS: '1000' });
    alice = await t.token('alice');
  });
  afterEach(async () => {
    await database.allowConnections(true);
    for (const sse of streams.splice(0)) sse.close();
  });
  afterAll(async () => {
    await t?.close();
    await database?.drop();
  });

  it('delivers a commit that was held open at a lower position first, to feeds, job streams and the read model', async () => {
    await t.ingest(status({ job_id: 'held-x' }));
    const registered = await t.ingest(status({ job_id: 'held-y' }));
    const feed = await open(`/events?after=${registered.body.results[0].position}`);
    const jobX = await open('/jobs/held-x/events?after=1');

    // Another node's append to held-x, paused between its insert and its commit …
    const held = new pg.Client({ connectionString: database.url });
    await held.connect();
    try {
      await held.query('BEGIN');
      const data = { job_id: 'held-x', user_id: 'alice', message_id: 'held-1', stage: 'parsing', state: 'running', message: 'held', artifact: null, cycle: null, progress: 0.2, details: {}, ts: '2026-11-20T10:00:00.000Z' };
      const [outcome] = await appendInTransaction(held, [
        [{ stream: jobStreamName('held-x'), events: [{ id: randomUUID(), type: 'StatusReported', data, metadata: {} }], expectedRevision: 1 }],
      ]);
      expect(outcome!.kind).toBe('written');
      // … while this node acknowledges three more for held-y.
      for (let i = 0; i < 3; i++) expect((await t.ingest(status({ job_id: 'held-y' }))).status).toBe(202);
      await new Promise((resolve) => setTimeout(resolve, 400));
      expect(feedEvents(feed)).toEqual([]);
      await held.query('COMMIT');
    } finally {
      await held.end();
    }

    await eventually(() => feedEvents(feed).length === 4, 10_000, 'the feed to deliver all four');
    expect(feedEvents(feed)).toEqual(['held-x@2', 'held-y@2', 'held-y@3', 'held-y@4']);
    await eventually(() => revisionsOf(jobX).includes(2), 5_000, 'the job stream to deliver held-x@2');
    expect(revisionsOf(jobX)).toEqual([2]);
    await t.projected();
    const view = (await (await fetch(`${t.url}/jobs/held-x`, { headers: { authorization: `Bearer ${alice}` } })).json()) as any;
    expect(view.meta.revision).toBe(2);
    expect(view.timeline_events.map((e: { revision: number }) => e.revision)).toEqual([1, 2]);

    // A client resuming the feed from the first of them gets the other three, once.
    const ids = feed.events.filter((e) => e.event === 'timeline.event').map((e) => e.id!);
    const resumed = await open('/events', { 'last-event-id': ids[0]! });
    await eventually(() => feedEvents(resumed).length >= 3, 5_000, 'the resumed feed');
    expect(feedEvents(resumed)).toEqual(['held-y@2', 'held-y@3', 'held-y@4']);
  });

  it('answers 503 with Retry-After while the database refuses connections, reports it on /readyz, and recovers by itself', async () => {
    const JOB = 'outage-1';
    await t.ingest(status({ job_id: JOB }));
    const sse = await open(`/jobs/${JOB}/events?after=0`);
    await eventually(() => revisionsOf(sse).length === 1, 5_000, 'the first event');

    await database.allowConnections(false);
    await database.terminateConnections();
    const refused = await t.ingest(status({ job_id: JOB }));
    expect(refused.status).toBe(503);
    expect(refused.body).toMatchObject({ status: 503, type: 'https://statuscast.dev/problems/unavailable' });
    const history = await fetch(`${t.url}/jobs/${JOB}/history?after=0`, { headers: { authorization: `Bearer ${await t.token('auditor', ['auditor'])}` } });
    expect(history.status).toBe(503);
    expect(history.headers.get('retry-after')).toBe('1');
    expect(history.headers.get('content-type')).toMatch(/application\/problem\+json/);
    const ready = await fetch(`${t.url}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({ reason: 'event store unreachable' });

    await database.allowConnections(true);
    await eventually(async () => (await t.ingest(status({ job_id: JOB }))).status === 202, 10_000, 'ingest to work again');
    await eventually(async () => (await fetch(`${t.url}/readyz`)).status === 200, 10_000, '/readyz to be ready again');
    await eventually(() => revisionsOf(sse).at(-1) === 2, 10_000, 'the SSE client to get what came after');
    expect(revisionsOf(sse)).toEqual([1, 2]);
  });

  it('under load, with connections terminated and refused again and again: 503s meanwhile, nothing acknowledged lost or doubled, clients without a gap', async () => {
    const JOBS = ['load-a', 'load-b', 'load-c'];
    for (const job of JOBS) expect((await t.ingest(status({ job_id: job }))).status).toBe(202);
    const jobStreams = await Promise.all(JOBS.map((job) => open(`/jobs/${job}/events?after=0`)));
    const feed = await open('/events');
    const acknowledged = new Set<string>();
    let unavailable = 0;
    let disrupting = true;

    async function publisher(index: number): Promise<void> {
      for (let n = 0; disrupting; n++) {
        const message = status({ job_id: JOBS[(index + n) % JOBS.length], message_id: `load-${index}-${n}` });
        // A worker retries the same message (same message_id) until it is acknowledged.
        for (;;) {
          const answer = await t.ingest(message).catch(() => ({ status: 0, body: undefined }));
          if (answer.status === 202) {
            acknowledged.add(String(message['message_id']));
            break;
          }
          expect(answer.status).toBe(503);
          unavailable++;
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      }
    }
    const publishers = [0, 1, 2, 3].map(publisher);
    for (let round = 0; round < 6; round++) {
      await new Promise((resolve) => setTimeout(resolve, 300));
      if (round % 2 === 0) {
        await database.terminateConnections();
      } else {
        await database.allowConnections(false);
        await database.terminateConnections();
        await new Promise((resolve) => setTimeout(resolve, 300));
        await database.allowConnections(true);
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 300));
    disrupting = false;
    await Promise.all(publishers);
    expect(unavailable).toBeGreaterThan(0);

    // Every acknowledged message is in the store, each exactly once.
    const stored = await database.sql<{ message_id: string }>(
      "SELECT data->>'message_id' AS message_id FROM statuscast.events WHERE type = 'StatusReported' AND data->>'message_id' LIKE 'load-%'",
    );
    const storedIds = stored.map((row) => row.message_id);
    expect(new Set(storedIds).size).toBe(storedIds.length);
    expect(storedIds.sort()).toEqual([...acknowledged].sort());

    // Every job client got 1..head exactly once and in order; the feed got every event once, in position order.
    const heads = await Promise.all(JOBS.map((job) => t.server.store.streamRevision(jobStreamName(job))));
    // Waits that time out fall through to the exact comparisons, whose diff says what is wrong.
    const settle = (done: () => boolean) => eventually(done, 20_000).catch(() => undefined);
    for (const [i, sse] of jobStreams.entries()) {
      await settle(() => revisionsOf(sse).at(-1) === heads[i]);
      expect(revisionsOf(sse)).toEqual(range(1, heads[i]!));
    }
    await settle(() => feedEvents(feed).length >= acknowledged.size);
    expect(feedEvents(feed)).toHaveLength(acknowledged.size);
    for (const [i, job] of JOBS.entries()) {
      expect(feedEvents(feed).filter((e) => e.startsWith(`${job}@`))).toEqual(range(2, heads[i]!).map((r) => `${job}@${r}`));
    }
  }, 60_000);

  it('appends a message without user_id on a node that saw its job as unknown before another node registered it', async () => {
    const other = await startTestServer({ DATABASE_URL: database.url });
    try {
      const JOB = 'late-registered';
      // This node looks the job up while it does not exist yet …
      const early = await t.ingest(status({ job_id: JOB, user_id: undefined }));
      expect(early.body.results[0]).toMatchObject({ outcome: 'dropped' });
      // … then another node registers it …
      expect((await other.ingest(status({ job_id: JOB }))).status).toBe(202);
      // … and a status without user_id reaches this node again: the job exists now.
      const later = await t.ingest(status({ job_id: JOB, user_id: undefined }));
      expect(later.body.results[0]).toMatchObject({ outcome: 'appended', revision: 2 });
    } finally {
      await other.close();
    }
  });
});
