import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  type AllSubscriptionItem,
  type EventStore,
  type NewEvent,
  StoreUnavailableError,
  WrongExpectedRevisionError,
  appendToStream,
  collect,
} from '../../src/store/eventStore.ts';
import { appendInTransaction, lockStreams } from '../../src/store/postgres/appendInTransaction.ts';
import { createPostgresEventStore, type PostgresEventStoreOptions, migrate, MIGRATIONS } from '../../src/store/postgres/index.ts';
import { comparePositions, encodePosition } from '../../src/store/position.ts';
import { createTestDatabase, type TestDatabase } from '../support/postgresDatabase.ts';
import { eventTypes, readItems } from '../support/subscriptionReader.ts';
import { describeEventStoreContract } from './eventStoreContract.ts';

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  await database?.drop();
});

describeEventStoreContract(
  'PostgreSQL (real server)',
  async () => {
    // One database for the file; each test opens its own store (and re-runs the migrations,
    // which must then do nothing) and works on streams of its own.
    const store = await createPostgresEventStore({ connectionString: database.url, pageSize: 100 });
    return { store, dispose: () => store.close() };
  },
  { atomicMultiStreamAppends: true },
);

describe('PostgreSQL event store', () => {
  let prefix: string;
  const stream = (name: string) => `${prefix}${name}`;
  const filter = () => ({ streamNamePrefixes: [prefix] });
  const opened: EventStore[] = [];
  const clients: pg.Client[] = [];

  /** A store as one node opens it; several in one test are several nodes. */
  async function node(options: Partial<PostgresEventStoreOptions> = {}): Promise<EventStore> {
    const store = await createPostgresEventStore({ connectionString: database.url, ...options });
    opened.push(store);
    return store;
  }

  /** A bare connection for holding transactions open by hand. */
  async function rawClient(): Promise<pg.Client> {
    const client = new pg.Client({ connectionString: database.url, application_name: 'test:held' });
    client.on('error', () => undefined);
    await client.connect();
    clients.push(client);
    return client;
  }

  beforeEach(() => {
    prefix = `p${randomUUID().slice(0, 8)}-`;
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.end().catch(() => undefined)));
    await Promise.all(opened.splice(0).map((s) => s.close()));
    await database.allowConnections(true);
  });

  describe('$all in an order no follower can skip', () => {
    it('holds back later commits while a transaction at a lower position is open, then delivers it first', async () => {
      const store = await node({ visibilityWaitMs: 100 });
      const subscription = store.subscribeToAll({ from: 'start', filter: filter() });
      const reader = readItems(subscription);
      await appendToStream(store, stream('before'), [ev('Before')], 'no_stream');
      await reader.until((items) => eventTypes(items).includes('Before'));
      const headBefore = await store.headPosition();

      // A slow append (another node, paused mid-transaction) takes the lower position …
      const held = await rawClient();
      await held.query('BEGIN');
      const [heldOutcome] = await appendInTransaction(held, [[{ stream: stream('slow'), events: [ev('Held')], expectedRevision: 'no_stream' }]]);
      expect(heldOutcome!.kind).toBe('written');
      // … while three appends after it commit.
      const later = [];
      for (const name of ['L1', 'L2', 'L3']) later.push(await appendToStream(store, stream(name), [ev(name)], 'no_stream'));
      const heldPosition = heldOutcome!.kind === 'written' ? heldOutcome!.results[0]!.position : undefined;
      for (const result of later) expect(comparePositions(heldPosition!, result.position)).toBeLessThan(0);

      // Nothing after the open transaction is visible to any reader yet (reads wait a moment
      // for what was committed before them, then answer with what followers can see).
      await new Promise((resolve) => setTimeout(resolve, 400));
      expect(eventTypes(reader.items)).toEqual(['Before']);
      expect(encodePosition((await store.headPosition())!)).toBe(encodePosition(headBefore!));
      expect((await collect(store.readAll({ filter: filter() }))).map((e) => e.type)).toEqual(['Before']);

      await held.query('COMMIT');
      const items = await reader.until((all) => eventTypes(all).length === 5);
      expect(eventTypes(items)).toEqual(['Before', 'Held', 'L1', 'L2', 'L3']);
      expectStrictlyIncreasing(items);
      expect((await collect(store.readAll({ filter: filter() }))).map((e) => e.type)).toEqual(['Before', 'Held', 'L1', 'L2', 'L3']);
      await subscription.close();
    });

    it('says caughtUp only once what was committed before the subscription started is delivered, even if held back', async () => {
      const store = await node();
      const held = await rawClient();
      await held.query('BEGIN');
      await appendInTransaction(held, [[{ stream: stream('slow'), events: [ev('Held')], expectedRevision: 'no_stream' }]]);
      await appendToStream(store, stream('done'), [ev('Committed')], 'no_stream');
      const reader = readItems(store.subscribeToAll({ from: 'start', filter: filter() }));
      // (Checkpoints past other tests' streams may come; no event, and no caughtUp.)
      const delivered = (items: readonly AllSubscriptionItem[]) =>
        items.filter((i) => i.kind !== 'checkpoint').map((i) => (i.kind === 'event' ? i.event.type : i.kind));
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(delivered(reader.items)).toEqual([]);
      await held.query('COMMIT');
      const items = await reader.until((all) => all.some((i) => i.kind === 'caughtUp'));
      expect(delivered(items)).toEqual(['Held', 'Committed', 'caughtUp']);
    });

    it("from 'end', skips what was committed before it started even if held back, and delivers what the older transaction commits later", async () => {
      const store = await node();
      const held = await rawClient();
      await held.query('BEGIN');
      await appendInTransaction(held, [[{ stream: stream('slow'), events: [ev('Held')], expectedRevision: 'no_stream' }]]);
      await appendToStream(store, stream('done'), [ev('Before')], 'no_stream');
      const reader = readItems(store.subscribeToAll({ from: 'end', filter: filter() }));
      await reader.until((items) => items.some((i) => i.kind === 'caughtUp'));
      await held.query('COMMIT');
      await appendToStream(store, stream('done'), [ev('After')], 0);
      expect(eventTypes(await reader.until((items) => eventTypes(items).includes('After')))).toEqual(['Held', 'After']);
    });

    it('delivers nothing of a transaction that rolls back, and what committed after it', async () => {
      const store = await node();
      const reader = readItems(store.subscribeToAll({ from: 'start', filter: filter() }));
      const held = await rawClient();
      await held.query('BEGIN');
      await appendInTransaction(held, [[{ stream: stream('aborted'), events: [ev('Aborted')], expectedRevision: 'no_stream' }]]);
      await appendToStream(store, stream('kept'), [ev('Kept')], 'no_stream');
      await held.query('ROLLBACK');
      expect(eventTypes(await reader.until((all) => eventTypes(all).length === 1))).toEqual(['Kept']);
      expect(await store.streamRevision(stream('aborted'))).toBeNull();
    });

    it('keeps every stream in revision order in $all while two nodes append to overlapping streams at once', async () => {
      const [a, b] = [await node(), await node()];
      const follower = await node();
      const reader = readItems(follower.subscribeToAll({ from: 'start', filter: filter() }));
      const streams = ['s0', 's1', 's2', 's3'].map(stream);
      let written = 0;
      async function appender(store: EventStore, seed: number): Promise<void> {
        for (let i = 0; i < 60; i++) {
          // Two or three streams per call, in varying order, so that calls of both nodes contend.
          const picked = streams.filter((_, k) => (k + i + seed) % 3 !== 0);
          if ((i + seed) % 2) picked.reverse();
          for (;;) {
            const heads = await Promise.all(picked.map((s) => store.streamRevision(s)));
            try {
              await store.appendToStreams(
                picked.map((s, k) => ({ stream: s, events: [ev(`${s}`)], expectedRevision: heads[k] ?? 'no_stream' })),
              );
              written += picked.length;
              break;
            } catch (error) {
              if (!(error instanceof WrongExpectedRevisionError)) throw error;
            }
          }
        }
      }
      await Promise.all([appender(a, 0), appender(b, 1), appender(a, 2), appender(b, 3)]);
      const items = await reader.until((all) => eventTypes(all).length === written, 20_000);
      const events = items.flatMap((i) => (i.kind === 'event' ? [i.event] : []));
      expectStrictlyIncreasing(items);
      for (const s of streams) {
        const revisions = events.filter((e) => e.stream === s).map((e) => e.revision);
        expect(revisions).toEqual(revisions.map((_, i) => i));
      }
      // The live follower saw exactly what a later read of the whole log sees, in the same order.
      const all = await collect(follower.readAll({ filter: filter() }));
      expect(events.map((e) => e.id)).toEqual(all.map((e) => e.id));
    });

    it('orders a call that waited for a stream lock after the holder, even though it asked first', async () => {
      const store = await node();
      // Another node has locked stream b and not yet written (its transaction has no id yet) …
      const held = await rawClient();
      await held.query('BEGIN');
      await lockStreams(held, [stream('b')]);
      // … when this call arrives and waits for the lock.
      const waiting = store.appendToStreams([
        { stream: stream('a'), events: [ev('A0')], expectedRevision: 'no_stream' },
        { stream: stream('b'), events: [ev('B1')], expectedRevision: 0 },
      ]);
      await eventually(async () => (await lockWaiters()) === 1);
      // The holder writes (and only now gets its transaction id) and commits.
      await appendInTransaction(held, [[{ stream: stream('b'), events: [ev('B0')], expectedRevision: 'no_stream' }]]);
      await held.query('COMMIT');
      await waiting;
      const all = await collect(store.readAll({ filter: filter() }));
      expect(all.map((e) => e.type)).toEqual(['B0', 'A0', 'B1']);
      expect(all.filter((e) => e.stream === stream('b')).map((e) => e.revision)).toEqual([0, 1]);
    });
  });

  describe('several nodes on one database', () => {
    it('lets exactly one of two nodes win a race at the same expected revision', async () => {
      const [a, b] = [await node(), await node()];
      await appendToStream(a, stream('x'), [ev('X0')], 'no_stream');
      for (let round = 0; round < 10; round++) {
        const outcomes = await Promise.allSettled([
          appendToStream(a, stream('x'), [ev('FromA')], round),
          appendToStream(b, stream('x'), [ev('FromB')], round),
        ]);
        expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
        const lost = outcomes.find((o) => o.status === 'rejected') as PromiseRejectedResult;
        expect(lost.reason).toBeInstanceOf(WrongExpectedRevisionError);
      }
      expect(await a.streamRevision(stream('x'))).toBe(10);
    });

    it('answers a retry on another node from the stored events', async () => {
      const [a, b] = [await node(), await node()];
      const events = [ev('One'), ev('Two')];
      const first = await appendToStream(a, stream('x'), events, 'no_stream');
      const retry = await appendToStream(b, stream('x'), events, 'no_stream');
      expect(retry.written).toEqual(first.written);
      expect((await collect(a.readStream(stream('x')))).map((e) => e.type)).toEqual(['One', 'Two']);
    });

    it("wakes another node's follower through NOTIFY, without waiting for a poll", async () => {
      const writer = await node();
      const follower = await node({ follow: { pollIntervalMs: 60_000 } });
      const reader = readItems(follower.subscribeToAll({ from: 'end', filter: filter() }));
      await reader.until((items) => items.some((i) => i.kind === 'caughtUp'));
      await appendToStream(writer, stream('x'), [ev('Notified')], 'no_stream');
      expect(eventTypes(await reader.until((items) => eventTypes(items).length === 1, 5_000))).toEqual(['Notified']);
    });

    it('falls back to polling while its LISTEN connection is down, and listens again after', async () => {
      const writer = await node();
      const follower = await node({ follow: { pollIntervalMs: 60_000, fallbackPollIntervalMs: 100 } });
      const reader = readItems(follower.subscribeToAll({ from: 'end', filter: filter() }));
      await reader.until((items) => items.some((i) => i.kind === 'caughtUp'));
      expect(await database.terminateConnections('statuscast:listen')).toBe(2);
      await appendToStream(writer, stream('x'), [ev('WhileDown')], 'no_stream');
      await reader.until((items) => eventTypes(items).length === 1, 5_000);
      // Reconnected: woken by notifications again.
      await eventually(async () => (await listeners()) === 2);
      await appendToStream(writer, stream('x'), [ev('AfterReconnect')], 0);
      expect(eventTypes(await reader.until((items) => eventTypes(items).length === 2, 5_000))).toEqual(['WhileDown', 'AfterReconnect']);
    });
  });

  describe('when the database goes away', () => {
    it('keeps a subscription through terminated connections, resuming after its last event', async () => {
      const store = await node({ follow: { retryDelayMs: 20, maxRetryDelayMs: 100 } });
      const reader = readItems(store.subscribeToAll({ from: 'start', filter: filter() }));
      await appendToStream(store, stream('x'), [ev('E0'), ev('E1')], 'no_stream');
      await reader.until((items) => eventTypes(items).length === 2);
      let revision = 1;
      for (let round = 0; round < 3; round++) {
        await database.terminateConnections();
        for (let i = 0; i < 3; i++) {
          await retryWhileUnavailable(() => appendToStream(store, stream('x'), [ev(`E${revision + 1}`)], revision));
          revision++;
        }
      }
      const items = await reader.until((all) => eventTypes(all).length === revision + 1);
      expect(eventTypes(items)).toEqual(Array.from({ length: revision + 1 }, (_, i) => `E${i}`));
      expectStrictlyIncreasing(items);
    });

    it('rejects with StoreUnavailableError while the database refuses connections, and works again after', async () => {
      const store = await node({ statementTimeoutMs: 1_000, follow: { retryDelayMs: 20, maxRetryDelayMs: 100 } });
      const reader = readItems(store.subscribeToAll({ from: 'start', filter: filter() }));
      await appendToStream(store, stream('x'), [ev('E0')], 'no_stream');
      await reader.until((items) => eventTypes(items).length === 1);

      await database.allowConnections(false);
      await database.terminateConnections();
      await expect(appendToStream(store, stream('x'), [ev('Lost')], 0)).rejects.toBeInstanceOf(StoreUnavailableError);
      await expect(collect(store.readStream(stream('x')))).rejects.toBeInstanceOf(StoreUnavailableError);
      await expect(store.streamRevision(stream('x'))).rejects.toBeInstanceOf(StoreUnavailableError);
      await expect(collect(store.readAll({ filter: filter() }))).rejects.toBeInstanceOf(StoreUnavailableError);
      await expect(store.headPosition()).rejects.toBeInstanceOf(StoreUnavailableError);

      await database.allowConnections(true);
      await retryWhileUnavailable(() => appendToStream(store, stream('x'), [ev('E1')], 0));
      expect(eventTypes(await reader.until((items) => eventTypes(items).length === 2))).toEqual(['E0', 'E1']);
    });

    it('fails an append that waits on a stream lock longer than the statement timeout', async () => {
      const store = await node({ statementTimeoutMs: 300 });
      const held = await rawClient();
      await held.query('BEGIN');
      await appendInTransaction(held, [[{ stream: stream('x'), events: [ev('Held')], expectedRevision: 'no_stream' }]]);
      await expect(appendToStream(store, stream('x'), [ev('Waits')], 0)).rejects.toBeInstanceOf(StoreUnavailableError);
      await held.query('ROLLBACK');
      await appendToStream(store, stream('x'), [ev('Free')], 'no_stream');
    });
  });

  describe('migrations', () => {
    it('records each version once, applies nothing on a second run, and lets several nodes migrate a fresh database at once', async () => {
      const fresh = await createTestDatabase();
      try {
        const reports = await Promise.all([1, 2, 3].map(() => migrate({ connectionString: fresh.url })));
        expect(reports.flatMap((r) => r.applied).sort()).toEqual(MIGRATIONS.map((m) => m.version));
        expect(reports.every((r) => r.current === MIGRATIONS.at(-1)!.version)).toBe(true);
        expect((await migrate({ connectionString: fresh.url })).applied).toEqual([]);
        const rows = await fresh.sql<{ version: number }>('SELECT version FROM statuscast.schema_migrations ORDER BY version');
        expect(rows.map((r) => r.version)).toEqual(MIGRATIONS.map((m) => m.version));
      } finally {
        await fresh.drop();
      }
    });
  });

  async function lockWaiters(): Promise<number> {
    const rows = await database.sql<{ n: number }>(
      "SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
    );
    return rows[0]!.n;
  }

  async function listeners(): Promise<number> {
    const rows = await database.sql<{ n: number }>(
      "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'statuscast:listen'",
    );
    return rows[0]!.n;
  }
});

function ev(type: string): NewEvent {
  return { id: randomUUID(), type, data: { type }, metadata: {} };
}

function expectStrictlyIncreasing(items: readonly AllSubscriptionItem[]): void {
  const positions = items.flatMap((i) => (i.kind === 'event' ? [i.event.position] : i.kind === 'checkpoint' ? [i.position] : []));
  for (let i = 1; i < positions.length; i++) expect(comparePositions(positions[i - 1]!, positions[i]!), `item ${i}`).toBeLessThan(0);
}

async function retryWhileUnavailable<T>(operation: () => Promise<T>, attempts = 100): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await operation();
    } catch (error) {
      if (!(error instanceof StoreUnavailableError) || attempt >= attempts) throw error;
      await new Promise((resolve) => setTimeout(resolve, 30));
    }
  }
}

async function eventually(condition: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition never became true');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
