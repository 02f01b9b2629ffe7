import { randomUUID } from 'node:crypto';
import { status } from '@grpc/grpc-js';
import { EventStoreDBClient, START } from '@eventstore/db-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  type AllSubscriptionItem,
  type EventStore,
  type NewEvent,
  PartialAppendError,
  StoreUnavailableError,
  WrongExpectedRevisionError,
  appendToStream,
  collect,
} from '../../src/store/eventStore.ts';
import { createEventStoreDbEventStore, type EventStoreDbEventStoreOptions } from '../../src/store/eventStoreDb/index.ts';
import { comparePositions, decodePosition, encodePosition, type GlobalPosition } from '../../src/store/position.ts';
import {
  type EventStoreDbStandIn,
  type EventStoreDbStandInOptions,
  startEventStoreDbStandIn,
} from '../support/eventStoreDbStandIn/index.ts';
import { describeEventStoreContract } from './eventStoreContract.ts';
import { eventTypes, readItems } from '../support/subscriptionReader.ts';

/** A fresh stand-in and an adapter connected to it; both stopped by `dispose`. */
async function standInSubject(
  standInOptions: EventStoreDbStandInOptions = {},
  storeOptions: Partial<EventStoreDbEventStoreOptions> = {},
) {
  const standIn = await startEventStoreDbStandIn(standInOptions);
  const store = createEventStoreDbEventStore({ connectionString: standIn.connectionString, ...storeOptions });
  return {
    standIn,
    store,
    async dispose() {
      await store.close();
      await standIn.stop();
    },
  };
}

describeEventStoreContract('EventStoreDB adapter on the stand-in (BatchAppend)', () => standInSubject(), {
  atomicMultiStreamAppends: false,
});

describeEventStoreContract(
  'EventStoreDB adapter on the stand-in (Append, as against a server without BatchAppend)',
  () => standInSubject({ batchAppend: false }),
  { atomicMultiStreamAppends: false },
);

const realServer = process.env.EVENTSTORE_CONNECTION_STRING;
if (realServer) {
  describeEventStoreContract(
    'EventStoreDB adapter on the real server named by EVENTSTORE_CONNECTION_STRING',
    async () => {
      const store = createEventStoreDbEventStore({ connectionString: realServer });
      return { store, dispose: () => store.close() };
    },
    { atomicMultiStreamAppends: false },
  );
} else {
  describe.skip('event store contract: EventStoreDB adapter on a real server — skipped: EVENTSTORE_CONNECTION_STRING is not set', () => {
    it('runs the contract suite against the server the connection string names', () => {});
  });
}

describe('EventStoreDB adapter', () => {
  let standIn: EventStoreDbStandIn;
  let store: EventStore;
  let dispose: (() => Promise<void>) | undefined;
  let prefix: string;
  const stream = (name: string) => `${prefix}${name}`;
  const filter = () => ({ streamNamePrefixes: [prefix] });

  async function connect(standInOptions: EventStoreDbStandInOptions = {}, storeOptions: Partial<EventStoreDbEventStoreOptions> = {}) {
    await dispose?.();
    ({ standIn, store, dispose } = await standInSubject(standInOptions, storeOptions));
  }

  beforeEach(async () => {
    prefix = `t${randomUUID().slice(0, 8)}-`;
    await connect({}, { resubscribeDelayMs: 5, maxResubscribeDelayMs: 20 });
  });
  afterEach(async () => {
    await dispose?.();
    dispose = undefined;
  });

  describe('positions', () => {
    it('maps {commit, prepare} above 2^53 without loss, including commit ≠ prepare', async () => {
      const result = await appendToStream(store, stream('a'), [ev('A0'), ev('A1'), ev('A2')], 'no_stream');
      const positions = result.written.map((w) => w.position);
      for (const p of positions) expect(p.commit).toBeGreaterThan(2n ** 53n);
      // The test is only worth something if a JavaScript number would have changed a value.
      expect(positions.some((p) => BigInt(Number(p.prepare)) !== p.prepare)).toBe(true);
      // The stand-in commits a multi-event append with a trailing commit record.
      expect(positions.every((p) => p.commit !== p.prepare)).toBe(true);

      const raw = await rawPositions(standIn, stream('a'));
      expect(positions).toEqual(raw);
      expect((await collect(store.readStream(stream('a')))).map((e) => e.position)).toEqual(raw);
      expect((await collect(store.readAll({ filter: filter() }))).map((e) => e.position)).toEqual(raw);
    });

    it('resumes strictly after a position that went through the wire encoding', async () => {
      const result = await appendToStream(store, stream('a'), [ev('A0'), ev('A1'), ev('A2')], 'no_stream');
      const wire = encodePosition(result.written[0]!.position);
      expect(wire).toMatch(/^\d+-\d+$/);
      const after = decodePosition(wire)!;
      expect((await collect(store.readAll({ after, filter: filter() }))).map((e) => e.type)).toEqual(['A1', 'A2']);
      const subscription = store.subscribeToAll({ from: after, filter: filter() });
      const reader = readItems(subscription);
      expect(eventTypes(await reader.until((items) => eventTypes(items).length === 2))).toEqual(['A1', 'A2']);
      await subscription.close();
    });
  });

  describe('appendToStreams', () => {
    it('answers a retry whose events are already in place with their revisions and the current head', async () => {
      const first = [ev('A0'), ev('A1')];
      const original = await appendToStream(store, stream('a'), first, 'no_stream');
      await appendToStream(store, stream('a'), [ev('A2')], 1);
      const retry = await appendToStream(store, stream('a'), first, 'no_stream');
      expect(retry.written).toEqual(original.written);
      expect(retry.nextExpectedRevision).toBe(2);
      expect(await types(store, stream('a'))).toEqual(['A0', 'A1', 'A2']);
    });

    it('rejects a retry whose event ids only partly match what is stored', async () => {
      const a0 = ev('A0');
      await appendToStream(store, stream('a'), [a0, ev('A1')], 'no_stream');
      await expect(appendToStream(store, stream('a'), [a0, ev('Other')], 'no_stream')).rejects.toMatchObject({
        name: 'WrongExpectedRevisionError',
        stream: stream('a'),
        expected: 'no_stream',
        actual: 1,
      });
    });

    it('writes streams one by one, names what a failed call wrote, and a corrected retry writes nothing twice', async () => {
      const a = [ev('A0')];
      const b = [ev('B0')];
      await appendToStream(store, stream('b'), [ev('Bx')], 'no_stream');
      const attempt = store.appendToStreams([
        { stream: stream('a'), events: a, expectedRevision: 'no_stream' },
        { stream: stream('b'), events: b, expectedRevision: 'no_stream' },
      ]);
      const failure = await attempt.catch((error: unknown) => error);
      // No multi-stream transaction: the first stream was written, and the error says so.
      expect(failure).toBeInstanceOf(PartialAppendError);
      expect((failure as PartialAppendError).cause).toBeInstanceOf(WrongExpectedRevisionError);
      expect((failure as PartialAppendError).written.map((r) => [r.stream, r.nextExpectedRevision])).toEqual([[stream('a'), 0]]);
      expect(await types(store, stream('a'))).toEqual(['A0']);

      const results = await store.appendToStreams([
        { stream: stream('a'), events: a, expectedRevision: 'no_stream' },
        { stream: stream('b'), events: b, expectedRevision: 0 },
      ]);
      expect(results.map((r) => r.nextExpectedRevision)).toEqual([0, 1]);
      expect(await types(store, stream('a'))).toEqual(['A0']);
      expect(await types(store, stream('b'))).toEqual(['Bx', 'B0']);
    });
  });

  describe('system events', () => {
    it("reports the server's own newest record as the head of a fresh server", async () => {
      const own = standIn.appendSystemEvent();
      expect(await store.headPosition()).toEqual(own);
    });

    it('moves the head to a record the server writes after the last application event (checkpoints can land there)', async () => {
      const result = await appendToStream(store, stream('a'), [ev('A0')], 'no_stream');
      const own = standIn.appendSystemEvent();
      const head = (await store.headPosition())!;
      expect(comparePositions(head, result.position)).toBeGreaterThan(0);
      expect(head).toEqual(own);
    });

    it('never delivers system events to an unfiltered subscription or read', async () => {
      const subscription = store.subscribeToAll({ from: 'start' });
      const reader = readItems(subscription);
      await reader.until((items) => items.some((i) => i.kind === 'caughtUp'));
      standIn.appendSystemEvent();
      await appendToStream(store, stream('a'), [ev('A0')], 'no_stream');
      const items = await reader.until((all) => eventTypes(all).length === 1);
      expect(eventTypes(items)).toEqual(['A0']);
      expect((await collect(store.readAll())).map((e) => e.type)).toEqual(['A0']);
      await subscription.close();
    });
  });

  describe('subscribeToAll', () => {
    it('reports checkpoints past filtered-out events, and caught up at the last one', async () => {
      for (let i = 0; i < 40; i++) await appendToStream(store, `other-${prefix}${i}`, [ev(`O${i}`)], 'no_stream');
      const last = await appendToStream(store, `other-${prefix}last`, [ev('OLast')], 'no_stream');
      const subscription = store.subscribeToAll({ from: 'start', filter: filter() });
      const items = await readItems(subscription).until((all) => all.some((i) => i.kind === 'caughtUp'));
      const checkpoints = items.filter((i) => i.kind === 'checkpoint').map((i) => i.position);
      expect(checkpoints.length).toBeGreaterThanOrEqual(2);
      expect(eventTypes(items)).toEqual([]);
      expect(checkpoints.at(-1)).toEqual(last.position);
      for (let i = 1; i < checkpoints.length; i++) expect(comparePositions(checkpoints[i - 1]!, checkpoints[i]!)).toBeLessThan(0);
      expect(items.at(-1)).toEqual({ kind: 'caughtUp', position: last.position });
      await subscription.close();
    });

    it('is pulled: a consumer that stops reading holds the server back, and then gets everything', async () => {
      const events = Array.from({ length: 1500 }, (_, i) => ev(`E${i}`, 'x'.repeat(200)));
      await appendToStream(store, stream('big'), events, 'no_stream');
      const subscription = store.subscribeToAll({ from: 'start', filter: filter() });
      const iterator = subscription[Symbol.asyncIterator]();
      expect((await iterator.next()).value).toMatchObject({ kind: 'event', event: { type: 'E0' } });
      await eventually(() => standIn.subscriptionBackpressureWaits > 0);
      let count = 1;
      for (;;) {
        const { value } = await iterator.next();
        if (value?.kind === 'event') count += 1;
        if (value?.kind === 'caughtUp') break;
      }
      expect(count).toBe(1500);
      await subscription.close();
    });

    for (const [label, code] of [
      ['UNAVAILABLE', status.UNAVAILABLE],
      ['CANCELLED (server shutting down)', status.CANCELLED],
      ['a clean end of the call', status.OK],
    ] as const) {
      it(`resubscribes after the server drops it with ${label}, from the last delivered position`, async () => {
        const subscription = store.subscribeToAll({ from: 'start', filter: filter() });
        const reader = readItems(subscription);
        await reader.until((items) => items.some((i) => i.kind === 'caughtUp'));
        const before = await appendToStream(store, stream('a'), [ev('E0'), ev('E1'), ev('E2')], 'no_stream');
        await reader.until((items) => eventTypes(items).length === 3);
        const requestsBefore = standIn.subscriptionRequests.length;

        expect(standIn.dropSubscriptions({ code })).toBe(1);
        // Append once the new subscription is open: the server then repeats the resume
        // position as a checkpoint, which must not be delivered a second time.
        await eventually(() => standIn.subscriptionRequests.length > requestsBefore && standIn.activeSubscriptions === 1);
        await appendToStream(store, stream('a'), [ev('E3'), ev('E4')], 2);
        const items = await reader.until((all) => eventTypes(all).length === 5);

        expect(eventTypes(items)).toEqual(['E0', 'E1', 'E2', 'E3', 'E4']);
        expect(items.filter((i) => i.kind === 'caughtUp')).toHaveLength(1);
        expectStrictlyIncreasing(items);
        const resumedFrom = standIn.subscriptionRequests[requestsBefore]!.from;
        expect(resumedFrom).toEqual(before.position);
        await subscription.close();
        // Nothing arrives late either.
        expect(eventTypes(await reader.done.then(() => reader.items))).toEqual(['E0', 'E1', 'E2', 'E3', 'E4']);
      });
    }

    it('delivers what it had buffered before a drop, then resumes after the last of it', async () => {
      const events = Array.from({ length: 300 }, (_, i) => ev(`E${i}`));
      await appendToStream(store, stream('a'), events, 'no_stream');
      const subscription = store.subscribeToAll({ from: 'start', filter: filter() });
      const iterator = subscription[Symbol.asyncIterator]();
      const seen: string[] = [];
      while (seen.length < 5) {
        const { value } = await iterator.next();
        if (value?.kind === 'event') seen.push(value.event.type);
      }
      standIn.dropSubscriptions();
      for (;;) {
        const { value } = await iterator.next();
        if (value?.kind === 'event') seen.push(value.event.type);
        if (value?.kind === 'caughtUp') break;
      }
      expect(seen).toEqual(events.map((e) => e.type));
      expect(standIn.subscriptionRequests.length).toBeGreaterThanOrEqual(2);
      await subscription.close();
    });

    it("keeps 'end' where it was when dropped before anything arrived", async () => {
      await connect({}, { resubscribeDelayMs: 200, maxResubscribeDelayMs: 200 });
      await appendToStream(store, stream('a'), [ev('Before')], 'no_stream');
      const subscription = store.subscribeToAll({ from: 'end', filter: filter() });
      const reader = readItems(subscription);
      await reader.until((items) => items.some((i) => i.kind === 'caughtUp'));
      standIn.dropSubscriptions();
      // Appended while the subscription is away: a resubscription "from the end" would miss it.
      await appendToStream(store, stream('a'), [ev('During')], 0);
      expect(eventTypes(await reader.until((items) => eventTypes(items).length === 1))).toEqual(['During']);
      await subscription.close();
    });

    it('outlives a server restart without a gap or a duplicate', async () => {
      const subscription = store.subscribeToAll({ from: 'end', filter: filter() });
      const reader = readItems(subscription);
      await reader.until((items) => items.some((i) => i.kind === 'caughtUp'));
      await appendToStream(store, stream('a'), [ev('E0')], 'no_stream');
      await reader.until((items) => eventTypes(items).length === 1);

      await standIn.stop();
      await standIn.start();
      await retryWhileUnavailable(() => appendToStream(store, stream('a'), [ev('E1'), ev('E2')], 0));

      expect(eventTypes(await reader.until((items) => eventTypes(items).length === 3))).toEqual(['E0', 'E1', 'E2']);
      await subscription.close();
    });

    it('fails with StoreUnavailableError once the server stays away longer than the retries allow', async () => {
      await connect({}, { resubscribeDelayMs: 1, maxResubscribeDelayMs: 5, maxResubscribeAttempts: 3 });
      const subscription = store.subscribeToAll({ from: 'start', filter: filter() });
      const reader = readItems(subscription);
      await reader.until((items) => items.some((i) => i.kind === 'caughtUp'));
      await standIn.stop();
      await expect(reader.done).rejects.toBeInstanceOf(StoreUnavailableError);
    });

    it('ends a pending iteration when the store is closed', async () => {
      const subscription = store.subscribeToAll({ from: 'end' });
      const reader = readItems(subscription);
      await reader.until((items) => items.some((i) => i.kind === 'caughtUp'));
      await store.close();
      await expect(reader.done).resolves.toBeUndefined();
      await expect(store.headPosition()).rejects.toBeInstanceOf(StoreUnavailableError);
    });
  });

  it('closes after reads and subscriptions that were stopped early', async () => {
    await appendToStream(store, stream('a'), Array.from({ length: 200 }, (_, i) => ev(`E${i}`)), 'no_stream');
    const partial = store.readStream(stream('a'))[Symbol.asyncIterator]();
    await partial.next();
    // Stopped at its last event, before the client has read the end of the call.
    const atLast = store.readStream(stream('a'), { fromRevision: 199 })[Symbol.asyncIterator]();
    await atLast.next();
    expect(await store.streamRevision(stream('a'))).toBe(199);
    // Meanwhile the server finishes both reads; the client holds what is left unread.
    expect(await collect(store.readStream(stream('a')))).toHaveLength(200);
    await partial.return?.();
    await atLast.return?.();
    for await (const _ of store.readAll({ filter: filter() })) break;
    const subscription = store.subscribeToAll({ from: 'start', filter: filter() });
    for await (const item of subscription) if (item.kind === 'caughtUp') break;
    await store.close();
  });

  describe('when the server is gone', () => {
    it('rejects every operation with StoreUnavailableError', async () => {
      await appendToStream(store, stream('a'), [ev('A0')], 'no_stream');
      await standIn.stop();
      await expect(appendToStream(store, stream('a'), [ev('A1')], 0)).rejects.toBeInstanceOf(StoreUnavailableError);
      await expect(collect(store.readStream(stream('a')))).rejects.toBeInstanceOf(StoreUnavailableError);
      await expect(store.streamRevision(stream('a'))).rejects.toBeInstanceOf(StoreUnavailableError);
      await expect(collect(store.readAll({ filter: filter() }))).rejects.toBeInstanceOf(StoreUnavailableError);
      await expect(store.headPosition()).rejects.toBeInstanceOf(StoreUnavailableError);
    });

    it('works again once the server is back', async () => {
      await standIn.stop();
      await expect(appendToStream(store, stream('a'), [ev('A0')], 'no_stream')).rejects.toBeInstanceOf(StoreUnavailableError);
      await standIn.start();
      await retryWhileUnavailable(() => appendToStream(store, stream('a'), [ev('A0')], 'no_stream'));
      expect(await types(store, stream('a'))).toEqual(['A0']);
    });
  });

  it('accepts KurrentDB connection strings', async () => {
    const kurrent = createEventStoreDbEventStore({ connectionString: standIn.connectionString.replace('esdb://', 'kurrentdb://') });
    try {
      await appendToStream(kurrent, stream('a'), [ev('A0')], 'no_stream');
      expect(await types(store, stream('a'))).toEqual(['A0']);
    } finally {
      await kurrent.close();
    }
  });
});

function ev(type: string, text?: string): NewEvent {
  return { id: randomUUID(), type, data: text === undefined ? { type } : { type, text }, metadata: { source: 'test' } };
}

async function types(store: EventStore, stream: string): Promise<string[]> {
  return (await collect(store.readStream(stream))).map((e) => e.type);
}

/** Every event and checkpoint lies strictly after the one before: nothing delivered twice. */
function expectStrictlyIncreasing(items: readonly AllSubscriptionItem[]): void {
  const positions = items.flatMap((i) =>
    i.kind === 'event' ? [i.event.position] : i.kind === 'checkpoint' ? [i.position] : [],
  );
  for (let i = 1; i < positions.length; i++) {
    expect(comparePositions(positions[i - 1]!, positions[i]!), `item ${i}`).toBeLessThan(0);
  }
}


/** The positions the server reports for a stream, read with the bare client. */
async function rawPositions(standIn: EventStoreDbStandIn, stream: string): Promise<GlobalPosition[]> {
  const client = EventStoreDBClient.connectionString(standIn.connectionString);
  try {
    const positions: GlobalPosition[] = [];
    for await (const resolved of client.readStream(stream, { fromRevision: START })) {
      positions.push({ commit: resolved.event!.position!.commit, prepare: resolved.event!.position!.prepare });
    }
    return positions;
  } finally {
    await client.dispose();
  }
}

/** Retries while the client is still reconnecting; any other error fails at once. */
async function retryWhileUnavailable<T>(operation: () => Promise<T>, attempts = 50): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await operation();
    } catch (error) {
      if (!(error instanceof StoreUnavailableError) || attempt >= attempts) throw error;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}

/** Waits for a condition that becomes true on its own; fails after 10 s. */
async function eventually(condition: () => boolean): Promise<void> {
  for (let waited = 0; !condition(); waited += 10) {
    if (waited > 10_000) throw new Error('condition never became true');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

