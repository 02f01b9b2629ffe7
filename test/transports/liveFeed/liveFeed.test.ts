import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Principal } from '../../../src/auth/principal.ts';
import { createMetrics } from '../../../src/observability/metrics.ts';
import { jobStreamName } from '../../../src/domain/job/events.ts';
import { type EventStore, appendToStream } from '../../../src/store/eventStore.ts';
import { createJobDirectory } from '../../../src/store/jobDirectory.ts';
import { comparePositions } from '../../../src/store/position.ts';
import { createEventStoreDbEventStore } from '../../../src/store/eventStoreDb/index.ts';
import { createPostgresEventStore } from '../../../src/store/postgres/index.ts';
import { createSqliteEventStore } from '../../../src/store/sqlite/createSqliteEventStore.ts';
import { type RunningLiveFeed, createLiveFeed } from '../../../src/transports/liveFeed/index.ts';
import type { CloseReason, JobCatchUp, LiveEvent } from '../../../src/transports/liveFeed/types.ts';
import { jobBulkFrame as signalrBulkFrame } from '../../../src/transports/signalr/statusFrames.ts';
import { jobBulkFrame as sseBulkFrame } from '../../../src/transports/sse/sseFrames.ts';
import { startEventStoreDbStandIn } from '../../support/eventStoreDbStandIn/index.ts';
import { createTestDatabase } from '../../support/postgresDatabase.ts';
import { eventually } from '../../support/testServer.ts';

const principal = (userId: string, roles: string[] = []): Principal => ({
  userId,
  roles: new Set(roles),
  tokenKind: 'user',
  groups: null,
  expiresAt: null,
});

let counter = 0;
async function report(store: EventStore, jobId: string, owner = 'alice', count = 1): Promise<void> {
  const head = await store.streamRevision(jobStreamName(jobId));
  const events = [];
  if (head === null) {
    events.push({ id: crypto.randomUUID(), type: 'JobRegistered', data: { job_id: jobId, user_id: owner, meta: {}, registered_at: 'x' }, metadata: {} });
  }
  for (let i = 0; i < count; i++) {
    counter++;
    events.push({
      id: crypto.randomUUID(),
      type: 'StatusReported',
      data: { job_id: jobId, user_id: owner, message_id: null, stage: 's', state: 'running', message: `m${counter}`, artifact: null, cycle: null, progress: null, details: {}, ts: 't' },
      metadata: {},
    });
  }
  await appendToStream(store, jobStreamName(jobId), events, head ?? 'no_stream');
}

function recordingSink() {
  const revisions: number[] = [];
  const catchUps: JobCatchUp[] = [];
  const closes: CloseReason[] = [];
  return {
    revisions,
    catchUps,
    closes,
    sink: {
      catchUp(c: JobCatchUp) {
        catchUps.push(c);
        revisions.push(...c.events.map((e) => e.revision));
      },
      live(e: LiveEvent) {
        revisions.push(e.revision);
      },
      closed(reason: CloseReason) {
        closes.push(reason);
      },
    },
  };
}

/**
 * Wraps a store to count stream reads; `hold` makes later reads take their snapshot at once
 * but hand it over only on `release`, so a test can append between the two.
 */
function readCountingStore(store: EventStore) {
  let gate: Promise<void> | null = null;
  let open = () => {};
  const state = {
    count: 0,
    snapshots: 0,
    hold() {
      gate = new Promise((resolve) => (open = resolve));
    },
    release() {
      open();
      gate = null;
    },
    store: new Proxy(store, {
      get(target, property) {
        if (property === 'readStream') {
          return (...args: Parameters<EventStore['readStream']>) => {
            state.count++;
            return (async function* () {
              const snapshot = [];
              for await (const event of target.readStream(...args)) snapshot.push(event);
              state.snapshots++;
              if (gate) await gate;
              yield* snapshot;
            })();
          };
        }
        const value = Reflect.get(target, property, target) as unknown;
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    }),
  };
  return state;
}

interface StoreSubject {
  readonly store: EventStore;
  dispose(): Promise<void>;
}

/** The same feed behaviour on every store adapter: each test gets a fresh, empty store. */
const ADAPTERS: readonly [string, () => Promise<StoreSubject>][] = [
  [
    'embedded SQLite',
    async () => {
      const store = createSqliteEventStore({ file: ':memory:', sync: 'normal' });
      return { store, dispose: () => store.close() };
    },
  ],
  [
    'PostgreSQL (real server)',
    async () => {
      const database = await createTestDatabase();
      const store = await createPostgresEventStore({ connectionString: database.url });
      return {
        store,
        async dispose() {
          await store.close();
          await database.drop();
        },
      };
    },
  ],
  [
    'EventStoreDB (stand-in)',
    async () => {
      const standIn = await startEventStoreDbStandIn();
      const store = createEventStoreDbEventStore({ connectionString: standIn.connectionString });
      return {
        store,
        async dispose() {
          await store.close();
          await standIn.stop();
        },
      };
    },
  ],
];

describe.each(ADAPTERS)('live feed on %s', (_adapter, openStore) => {
  let subject: StoreSubject;
  let store: EventStore;
  let feed: RunningLiveFeed;
  beforeEach(async () => {
    subject = await openStore();
    store = subject.store;
    feed = createLiveFeed({ store, directory: createJobDirectory(store), logger: pino({ level: 'silent' }), maxPendingPerSubscriber: 50 });
    await feed.start();
  });
  afterEach(async () => {
    await feed.stop();
    await subject.dispose();
  });

  it('tells a subscriber whose transport throws that it was closed, so the client is not left on a silent stream', async () => {
    const broken = recordingSink();
    const healthy = recordingSink();
    await feed.subscribeJob('throws', null, { ...broken.sink, live: () => { throw new Error('socket write failed'); } });
    await feed.subscribeJob('throws', null, healthy.sink);
    const feedCloses: CloseReason[] = [];
    await feed.subscribeFeed({ kind: 'all' }, null, { catchUp: () => undefined, live: () => { throw new Error('feed write failed'); }, closed: (r) => feedCloses.push(r) });
    await report(store, 'throws');
    await report(store, 'throws');
    await eventually(() => healthy.revisions.length === 2);
    expect(broken.closes).toEqual(['delivery-failed']);
    expect(feedCloses).toEqual(['delivery-failed']);
    expect(healthy.revisions).toEqual([1, 2]);
    expect(feed.subscriberCount).toBe(1);
  });

  it('hands over from catch-up to live with no gap and no duplicate while appends race the catch-up read', async () => {
    await report(store, 'race', 'alice', 20);
    const subscribers: ReturnType<typeof recordingSink>[] = [];
    const afters: number[] = [];
    let appending = true;
    const appender = (async () => {
      for (let i = 0; i < 150; i++) await report(store, 'race');
      appending = false;
    })();
    // Bounded, as the storm below: a slow store must not pile up subscribers without end.
    while (appending && subscribers.length < 400) {
      const recorder = recordingSink();
      const after = Math.floor(Math.random() * 10);
      subscribers.push(recorder);
      afters.push(after);
      await feed.subscribeJob('race', after, recorder.sink);
      await new Promise((resolve) => setImmediate(resolve));
    }
    await appender;
    expect(subscribers.length).toBeGreaterThan(20);
    await eventually(() => subscribers.every((s) => s.revisions[s.revisions.length - 1] === 170), 5000);
    subscribers.forEach((s, i) => {
      const from = afters[i]! + 1;
      expect(s.revisions).toEqual(Array.from({ length: 170 - from + 1 }, (_, k) => from + k));
      expect(s.catchUps).toHaveLength(1);
      expect(s.catchUps[0]!.fromRevision).toBe(from);
    });
  });

  it('gives every subscriber of a storm (concurrent resubscribes sharing reads) all revisions once while appends race', async () => {
    await report(store, 'storm', 'alice', 30);
    let appending = true;
    const appender = (async () => {
      for (let i = 0; i < 100; i++) await report(store, 'storm');
      appending = false;
    })();
    const subscribers: { recorder: ReturnType<typeof recordingSink>; after: number }[] = [];
    // Bounded: on a slow store (a shared database server under load) waves would otherwise
    // pile up for as long as the appends take.
    while (appending && subscribers.length < 400) {
      const wave = Array.from({ length: 8 }, (_, i) => ({ recorder: recordingSink(), after: i % 2 === 0 ? 10 : 20 }));
      subscribers.push(...wave);
      await Promise.all(wave.map(({ recorder, after }) => feed.subscribeJob('storm', after, recorder.sink)));
      await new Promise((resolve) => setImmediate(resolve));
    }
    await appender;
    expect(subscribers.length).toBeGreaterThan(40);
    await eventually(() => subscribers.every(({ recorder }) => recorder.revisions.at(-1) === 130), 5000);
    for (const { recorder, after } of subscribers) {
      expect(recorder.revisions).toEqual(Array.from({ length: 130 - after }, (_, k) => after + 1 + k));
    }
  });

  it('lets clients that come back at once from the same revision share one store read and one bulk frame', async () => {
    await report(store, 'herd', 'alice', 5);
    const reads = readCountingStore(store);
    const herdFeed = createLiveFeed({ store: reads.store, directory: createJobDirectory(store), logger: pino({ level: 'silent' }) });
    await herdFeed.start();
    try {
      const herd = Array.from({ length: 50 }, () => recordingSink());
      await Promise.all(herd.map((r) => herdFeed.subscribeJob('herd', 2, r.sink)));
      expect(reads.count).toBe(1);
      for (const r of herd) expect(r.revisions).toEqual([3, 4, 5]);
      expect(new Set(herd.map((r) => signalrBulkFrame(r.catchUps[0]!))).size).toBe(1);
      expect(new Set(herd.map((r) => sseBulkFrame(r.catchUps[0]!))).size).toBe(1);

      // A later revision is in memory too; an earlier one than the cache holds reads the store.
      const later = recordingSink();
      await herdFeed.subscribeJob('herd', 4, later.sink);
      expect(later.revisions).toEqual([5]);
      expect(reads.count).toBe(1);
      const earlier = recordingSink();
      await herdFeed.subscribeJob('herd', 0, earlier.sink);
      expect(earlier.revisions).toEqual([1, 2, 3, 4, 5]);
      expect(reads.count).toBe(2);
      expect(herdFeed.subscriberCount).toBe(52);
    } finally {
      await herdFeed.stop();
    }
  });

  it('serves clients that drop and come back from memory, with what was appended while they were away', async () => {
    await report(store, 'blip', 'alice', 3);
    const reads = readCountingStore(store);
    const blipFeed = createLiveFeed({ store: reads.store, directory: createJobDirectory(store), logger: pino({ level: 'silent' }) });
    await blipFeed.start();
    try {
      const before = recordingSink();
      (await blipFeed.subscribeJob('blip', 3, before.sink)).close();
      expect(blipFeed.subscriberCount).toBe(0);
      await report(store, 'blip', 'alice', 4);
      const back = Array.from({ length: 10 }, () => recordingSink());
      await eventually(async () => (await store.streamRevision(jobStreamName('blip'))) === 7);
      // Until the feed has dispatched 4..7 the cache rightly answers up to 3 (the rest arrives
      // live); wait for it, rather than a fixed pause that a loaded machine outlasts.
      const head = (await store.headPosition())!;
      await eventually(() => blipFeed.position !== null && comparePositions(blipFeed.position, head) >= 0);
      for (const r of back) await blipFeed.subscribeJob('blip', 3, r.sink);
      for (const r of back) expect(r.revisions).toEqual([4, 5, 6, 7]);
      expect(reads.count).toBe(1);
      await report(store, 'blip');
      await eventually(() => back.every((r) => r.revisions.at(-1) === 8));
    } finally {
      await blipFeed.stop();
    }
  });

  it('keeps the cache within its bounds: old events and least recently resumed jobs go, and their clients read the store', async () => {
    const reads = readCountingStore(store);
    const bounded = createLiveFeed({
      store: reads.store,
      directory: createJobDirectory(store),
      logger: pino({ level: 'silent' }),
      tailCache: { maxEventsPerJob: 4, maxEvents: 12 },
    });
    await bounded.start();
    try {
      await report(store, 'long', 'alice', 10);
      const first = recordingSink();
      (await bounded.subscribeJob('long', 0, first.sink)).close();
      expect(first.revisions).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      const recent = recordingSink();
      (await bounded.subscribeJob('long', 6, recent.sink)).close();
      expect(recent.revisions).toEqual([7, 8, 9, 10]);
      expect(reads.count).toBe(1);
      const behind = recordingSink();
      (await bounded.subscribeJob('long', 5, behind.sink)).close();
      expect(behind.revisions).toEqual([6, 7, 8, 9, 10]);
      expect(reads.count).toBe(2);

      // Two more jobs push 'long' (least recently resumed) out: it is read again next time.
      for (const job of ['a', 'b']) {
        await report(store, job, 'alice', 4);
        (await bounded.subscribeJob(job, 0, recordingSink().sink)).close();
      }
      const countBefore = reads.count;
      const again = recordingSink();
      (await bounded.subscribeJob('long', 6, again.sink)).close();
      expect(again.revisions).toEqual([7, 8, 9, 10]);
      expect(reads.count).toBe(countBefore + 1);
    } finally {
      await bounded.stop();
    }
  });

  it('stays within its bounds while live events pile up and no client resumes', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    const cachedEvents = async () => (await metrics.liveTailCacheEvents.get()).values[0]?.value ?? 0;
    const bounded = createLiveFeed({
      store,
      directory: createJobDirectory(store),
      logger: pino({ level: 'silent' }),
      metrics,
      tailCache: { maxEventsPerJob: 4, maxEvents: 12 },
    });
    await bounded.start();
    try {
      for (const job of ['j1', 'j2', 'j3']) await report(store, job, 'alice', 1);
      for (const job of ['j1', 'j2']) (await bounded.subscribeJob(job, 0, recordingSink().sink)).close();
      const watcher = recordingSink();
      await bounded.subscribeJob('j3', 0, watcher.sink);
      expect(await cachedEvents()).toBe(3);

      // Live events only: 3 jobs × 7 events is past the limit of 12, though no job is past twice its own bound.
      for (const job of ['j1', 'j2', 'j3']) await report(store, job, 'alice', 6);
      await eventually(() => watcher.revisions.at(-1) === 7);
      expect(await cachedEvents()).toBeLessThanOrEqual(12);
      const resumed = recordingSink();
      (await bounded.subscribeJob('j1', 3, resumed.sink)).close();
      expect(resumed.revisions).toEqual([4, 5, 6, 7]);
    } finally {
      await bounded.stop();
    }
  });

  it('never lets a client miss an event appended while the cache was catching up', async () => {
    await report(store, 'late', 'alice', 5);
    const reads = readCountingStore(store);
    const lateFeed = createLiveFeed({ store: reads.store, directory: createJobDirectory(store), logger: pino({ level: 'silent' }) });
    await lateFeed.start();
    try {
      const dispatched: number[] = [];
      await lateFeed.subscribeFeed({ kind: 'owner', userId: 'alice' }, null, {
        catchUp: () => undefined,
        live: (event) => dispatched.push(event.revision),
        closed: () => undefined,
      });
      reads.hold();
      const first = recordingSink();
      const firstDone = lateFeed.subscribeJob('late', 3, first.sink);
      await eventually(() => reads.snapshots === 1);
      // Revision 6 lands after the read took its snapshot and before the second client
      // registers: it must reach both clients all the same.
      await report(store, 'late');
      await eventually(() => dispatched.includes(6));
      const second = recordingSink();
      const secondDone = lateFeed.subscribeJob('late', 3, second.sink);
      await new Promise((resolve) => setImmediate(resolve));
      reads.release();
      await Promise.all([firstDone, secondDone]);
      await report(store, 'late');
      await eventually(() => first.revisions.at(-1) === 7 && second.revisions.at(-1) === 7);
      expect(first.revisions).toEqual([4, 5, 6, 7]);
      expect(second.revisions).toEqual([4, 5, 6, 7]);
      expect(second.closes).toEqual([]);
      expect(reads.count).toBe(1);
    } finally {
      reads.release();
      await lateFeed.stop();
    }
  });

  it('serializes each event once for every subscriber', async () => {
    await report(store, 'shared');
    const seen: LiveEvent[] = [];
    for (let i = 0; i < 3; i++) {
      await feed.subscribeJob('shared', 1, { catchUp: () => undefined, live: (e) => seen.push(e), closed: () => undefined });
    }
    await report(store, 'shared');
    await eventually(() => seen.length === 3);
    expect(new Set(seen).size).toBe(1);
    expect(seen[0]!.timelineEventJson).toBe(seen[2]!.timelineEventJson);
  });

  it('closes a subscriber whose live backlog outgrows its bound during catch-up', async () => {
    await report(store, 'slow', 'alice', 3);
    const recorder = recordingSink();
    // A catch-up read held back while 60 live events arrive (bound: 50).
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const slowStore: EventStore = {
      ...store,
      readStream: async function* (stream, options) {
        await gate;
        yield* store.readStream(stream, options);
      },
    };
    const slowFeed = createLiveFeed({ store: slowStore, directory: createJobDirectory(store), logger: pino({ level: 'silent' }), maxPendingPerSubscriber: 50 });
    await slowFeed.start();
    const subscribing = slowFeed.subscribeJob('slow', 0, recorder.sink);
    for (let i = 0; i < 60; i++) await report(store, 'slow');
    await eventually(() => recorder.closes.length > 0, 5000, 'the slow subscriber to be closed');
    release();
    await subscribing;
    expect(recorder.closes).toEqual(['slow-consumer']);
    expect(recorder.catchUps).toHaveLength(0);
    expect(slowFeed.subscriberCount).toBe(0);
    await slowFeed.stop();
  });

  it('routes a feed to the owner’s jobs only, and all jobs to admins, ordered by position', async () => {
    const mine: string[] = [];
    const all: string[] = [];
    const sink = (into: string[]) => ({ catchUp: () => undefined, live: (e: LiveEvent) => into.push(`${e.jobId}@${e.revision}`), closed: () => undefined });
    await feed.subscribeFeed({ kind: 'owner', userId: 'alice' }, null, sink(mine));
    await feed.subscribeFeed({ kind: 'all' }, null, sink(all));
    await report(store, 'a1', 'alice');
    await report(store, 'b1', 'bob');
    await report(store, 'a1', 'alice');
    await eventually(() => all.length === 3);
    expect(all).toEqual(['a1@1', 'b1@1', 'a1@2']);
    expect(mine).toEqual(['a1@1', 'a1@2']);
  });

  it('tells a feed subscriber whose resume point is too old to reload', async () => {
    const small = createLiveFeed({ store, directory: createJobDirectory(store), logger: pino({ level: 'silent' }), maxFeedCatchUpScan: 5 });
    await small.start();
    await report(store, 'old', 'alice', 10);
    const recorder = recordingSink();
    await small.subscribeFeed({ kind: 'owner', userId: 'alice' }, { commit: 0n, prepare: 0n }, {
      catchUp: () => undefined,
      live: () => undefined,
      closed: recorder.sink.closed,
    });
    expect(recorder.closes).toEqual(['too-far-behind']);
    await small.stop();
  });

  it('closes every subscriber with shutdown when stopped', async () => {
    await report(store, 'bye');
    const recorder = recordingSink();
    await feed.subscribeJob('bye', null, recorder.sink);
    await feed.stop();
    expect(recorder.closes).toEqual(['shutdown']);
    expect(feed.subscriberCount).toBe(0);
  });
});
