import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Principal } from '../../../src/auth/principal.ts';
import { jobStreamName } from '../../../src/domain/job/events.ts';
import { type EventStore, appendToStream } from '../../../src/store/eventStore.ts';
import { createJobDirectory } from '../../../src/store/jobDirectory.ts';
import { createSqliteEventStore } from '../../../src/store/sqlite/createSqliteEventStore.ts';
import { type RunningLiveFeed, createLiveFeed } from '../../../src/transports/liveFeed/index.ts';
import type { CloseReason, JobCatchUp, LiveEvent } from '../../../src/transports/liveFeed/types.ts';
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

describe('live feed', () => {
  let store: EventStore;
  let feed: RunningLiveFeed;
  beforeEach(async () => {
    store = createSqliteEventStore({ file: ':memory:', sync: 'normal' });
    feed = createLiveFeed({ store, directory: createJobDirectory(store), logger: pino({ level: 'silent' }), maxPendingPerSubscriber: 50 });
    await feed.start();
  });
  afterEach(async () => {
    await feed.stop();
    await store.close();
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
    while (appending) {
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
    await feed.subscribeFeed(principal('alice'), null, sink(mine));
    await feed.subscribeFeed(principal('root', ['admin']), null, sink(all));
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
    await small.subscribeFeed(principal('alice'), { commit: 0n, prepare: 0n }, {
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
