import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  type EventStore,
  type NewEvent,
  WrongExpectedRevisionError,
  appendToStream,
  collect,
} from '../../src/store/eventStore.ts';
import { comparePositions, encodePosition } from '../../src/store/position.ts';
import { eventTypes, readItems } from '../support/subscriptionReader.ts';

export interface ContractSubject {
  readonly store: EventStore;
  /** Called after the test; closes the store and removes what it created. */
  dispose(): Promise<void>;
}

export interface ContractOptions {
  /** True when a multi-stream `appendToStreams` call is all-or-nothing on this engine. */
  readonly atomicMultiStreamAppends: boolean;
}

/**
 * The behaviour every event store adapter must have. Run it with a factory that gives a
 * fresh, empty store per test.
 */
export function describeEventStoreContract(
  adapterName: string,
  createSubject: () => Promise<ContractSubject>,
  options: ContractOptions,
): void {
  describe(`event store contract: ${adapterName}`, () => {
    let subject: ContractSubject;
    let store: EventStore;
    // Stream names are unique per test so the suite also runs against a shared real server.
    let prefix: string;
    const stream = (name: string) => `${prefix}${name}`;

    beforeEach(async () => {
      subject = await createSubject();
      store = subject.store;
      prefix = `c${randomUUID().slice(0, 8)}-`;
    });
    afterEach(async () => {
      await subject.dispose();
    });

    describe('appendToStreams', () => {
      it('numbers a new stream from revision 0 and returns strictly increasing positions', async () => {
        const result = await appendToStream(store, stream('a'), [ev('One'), ev('Two'), ev('Three')], 'no_stream');
        expect(result.nextExpectedRevision).toBe(2);
        expect(result.written.map((w) => w.revision)).toEqual([0, 1, 2]);
        const positions = result.written.map((w) => w.position);
        expect(comparePositions(positions[0]!, positions[1]!)).toBeLessThan(0);
        expect(comparePositions(positions[1]!, positions[2]!)).toBeLessThan(0);
        expect(result.position).toEqual(positions[2]);
      });

      it('continues a stream at the expected revision', async () => {
        await appendToStream(store, stream('a'), [ev('One')], 'no_stream');
        const result = await appendToStream(store, stream('a'), [ev('Two')], 0);
        expect(result.written.map((w) => w.revision)).toEqual([1]);
      });

      it('rejects a wrong expected revision and writes nothing', async () => {
        await appendToStream(store, stream('a'), [ev('One'), ev('Two')], 'no_stream');
        const attempt = appendToStream(store, stream('a'), [ev('Three')], 0);
        await expect(attempt).rejects.toBeInstanceOf(WrongExpectedRevisionError);
        await expect(attempt).rejects.toMatchObject({ stream: stream('a'), actual: 1 });
        expect(await types(store, stream('a'))).toEqual(['One', 'Two']);
      });

      it("rejects 'no_stream' for an existing stream and 'stream_exists' for a missing one", async () => {
        await appendToStream(store, stream('a'), [ev('One')], 'no_stream');
        await expect(appendToStream(store, stream('a'), [ev('X')], 'no_stream')).rejects.toBeInstanceOf(
          WrongExpectedRevisionError,
        );
        await expect(appendToStream(store, stream('b'), [ev('X')], 'stream_exists')).rejects.toBeInstanceOf(
          WrongExpectedRevisionError,
        );
        await appendToStream(store, stream('a'), [ev('Two')], 'stream_exists');
        await appendToStream(store, stream('a'), [ev('Three')], 'any');
        expect(await types(store, stream('a'))).toEqual(['One', 'Two', 'Three']);
      });

      it('lets exactly one of two racing appends at the same expected revision win', async () => {
        await appendToStream(store, stream('a'), [ev('One')], 'no_stream');
        const outcomes = await Promise.allSettled([
          appendToStream(store, stream('a'), [ev('Left')], 0),
          appendToStream(store, stream('a'), [ev('Right')], 0),
        ]);
        expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
        const rejected = outcomes.find((o) => o.status === 'rejected') as PromiseRejectedResult;
        expect(rejected.reason).toBeInstanceOf(WrongExpectedRevisionError);
        expect(await types(store, stream('a'))).toHaveLength(2);
      });

      it('treats a retried append with the same event ids as already done', async () => {
        const events = [ev('One'), ev('Two')];
        const first = await appendToStream(store, stream('a'), events, 'no_stream');
        const retry = await appendToStream(store, stream('a'), events, 'no_stream');
        expect(retry.written.map((w) => w.revision)).toEqual([0, 1]);
        expect(retry.written.map((w) => encodePosition(w.position))).toEqual(
          first.written.map((w) => encodePosition(w.position)),
        );
        expect(await types(store, stream('a'))).toEqual(['One', 'Two']);
      });

      it('appends to several streams in one call', async () => {
        const results = await store.appendToStreams([
          { stream: stream('a'), events: [ev('A0')], expectedRevision: 'no_stream' },
          { stream: stream('b'), events: [ev('B0'), ev('B1')], expectedRevision: 'no_stream' },
        ]);
        expect(results.map((r) => [r.stream, r.nextExpectedRevision])).toEqual([
          [stream('a'), 0],
          [stream('b'), 1],
        ]);
        expect(await types(store, stream('b'))).toEqual(['B0', 'B1']);
      });

      if (options.atomicMultiStreamAppends) {
        it('writes nothing from a multi-stream call when one stream conflicts', async () => {
          await appendToStream(store, stream('b'), [ev('B0')], 'no_stream');
          await expect(
            store.appendToStreams([
              { stream: stream('a'), events: [ev('A0')], expectedRevision: 'no_stream' },
              { stream: stream('b'), events: [ev('B1')], expectedRevision: 5 },
            ]),
          ).rejects.toMatchObject({ name: 'WrongExpectedRevisionError', stream: stream('b') });
          expect(await types(store, stream('a'))).toEqual([]);
          expect(await types(store, stream('b'))).toEqual(['B0']);
        });
      }

      it('keeps data and metadata exactly as given', async () => {
        const data = { text: 'naïve — ✓ "quoted"\n', nested: { list: [1, 2.5, null, true] }, big: 9007199254740991 };
        const metadata = { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' };
        const appended = { id: randomUUID(), type: 'Typed', data, metadata };
        await appendToStream(store, stream('a'), [appended], 'no_stream');
        const [read] = await collect(store.readStream(stream('a')));
        expect(read).toMatchObject({ id: appended.id, stream: stream('a'), revision: 0, type: 'Typed', data, metadata });
        expect(read!.recordedAt).toBeInstanceOf(Date);
        expect(Math.abs(read!.recordedAt.getTime() - Date.now())).toBeLessThan(60_000);
      });
    });

    describe('readStream', () => {
      it('reads an absent stream as empty', async () => {
        expect(await collect(store.readStream(stream('missing')))).toEqual([]);
      });

      it('reports the revision of the last event, or null for an absent stream', async () => {
        expect(await store.streamRevision(stream('a'))).toBeNull();
        await appendToStream(store, stream('a'), [ev('One'), ev('Two'), ev('Three')], 'no_stream');
        expect(await store.streamRevision(stream('a'))).toBe(2);
      });

      it('reads forwards from a revision, bounded by maxCount, across page boundaries', async () => {
        const events = Array.from({ length: 1203 }, (_, i) => ev(`E${i}`));
        await appendToStream(store, stream('long'), events, 'no_stream');
        const all = await collect(store.readStream(stream('long')));
        expect(all.map((e) => e.revision)).toEqual(events.map((_, i) => i));
        const slice = await collect(store.readStream(stream('long'), { fromRevision: 1000, maxCount: 150 }));
        expect(slice.map((e) => e.revision)).toEqual(Array.from({ length: 150 }, (_, i) => 1000 + i));
        const tail = await collect(store.readStream(stream('long'), { fromRevision: 1200 }));
        expect(tail.map((e) => e.type)).toEqual(['E1200', 'E1201', 'E1202']);
      });
    });

    describe('readAll', () => {
      it('reads every stream in commit order strictly after a position, with a prefix filter', async () => {
        const a = await appendToStream(store, stream('job-1'), [ev('A0')], 'no_stream');
        await appendToStream(store, stream('other-1'), [ev('O0')], 'no_stream');
        await appendToStream(store, stream('job-2'), [ev('B0'), ev('B1')], 'no_stream');
        const filter = { streamNamePrefixes: [stream('job-')] };
        const after = await collect(store.readAll({ after: a.position, filter }));
        expect(after.map((e) => e.type)).toEqual(['B0', 'B1']);
        const mine = await collect(store.readAll({ filter }));
        expect(mine.map((e) => e.type)).toEqual(['A0', 'B0', 'B1']);
        const limited = await collect(store.readAll({ filter, maxCount: 2 }));
        expect(limited.map((e) => e.type)).toEqual(['A0', 'B0']);
        for (let i = 1; i < mine.length; i++) {
          expect(comparePositions(mine[i - 1]!.position, mine[i]!.position)).toBeLessThan(0);
        }
      });

      it('reports the head position of the store', async () => {
        const result = await appendToStream(store, stream('a'), [ev('One'), ev('Two')], 'no_stream');
        expect(encodePosition((await store.headPosition())!)).toBe(encodePosition(result.position));
      });
    });

    describe('subscribeToAll', () => {
      it('delivers existing events, then caughtUp, then live events in order', async () => {
        const filter = { streamNamePrefixes: [prefix] };
        await appendToStream(store, stream('a'), [ev('Old0'), ev('Old1')], 'no_stream');
        const subscription = store.subscribeToAll({ from: 'start', filter });
        const reader = readItems(subscription);
        await reader.until((items) => items.some((i) => i.kind === 'caughtUp'));
        await appendToStream(store, stream('a'), [ev('New2')], 1);
        await appendToStream(store, stream('b'), [ev('New0')], 'no_stream');
        const items = await reader.until((all) => eventTypes(all).length === 4);
        expect(eventTypes(items)).toEqual(['Old0', 'Old1', 'New2', 'New0']);
        const caughtUpIndex = items.findIndex((i) => i.kind === 'caughtUp');
        expect(eventTypes(items.slice(0, caughtUpIndex))).toEqual(['Old0', 'Old1']);
        await subscription.close();
        await reader.done;
      });

      it("starts strictly after the given position, or at the head with 'end'", async () => {
        const filter = { streamNamePrefixes: [prefix] };
        const first = await appendToStream(store, stream('a'), [ev('E0'), ev('E1')], 'no_stream');
        const fromPosition = store.subscribeToAll({ from: first.written[0]!.position, filter });
        const fromEnd = store.subscribeToAll({ from: 'end', filter });
        const a = readItems(fromPosition);
        const b = readItems(fromEnd);
        await b.until((items) => items.some((i) => i.kind === 'caughtUp'));
        await appendToStream(store, stream('a'), [ev('E2')], 1);
        expect(eventTypes(await a.until((items) => eventTypes(items).length === 2))).toEqual(['E1', 'E2']);
        expect(eventTypes(await b.until((items) => eventTypes(items).length === 1))).toEqual(['E2']);
        await Promise.all([fromPosition.close(), fromEnd.close()]);
      });

      it('only delivers streams matching the prefix filter', async () => {
        const subscription = store.subscribeToAll({ from: 'start', filter: { streamNamePrefixes: [stream('job-')] } });
        const reader = readItems(subscription);
        await appendToStream(store, stream('other'), [ev('Skip')], 'no_stream');
        await appendToStream(store, stream('job-1'), [ev('Keep')], 'no_stream');
        const items = await reader.until((all) => eventTypes(all).length === 1);
        expect(eventTypes(items)).toEqual(['Keep']);
        await subscription.close();
      });

      it('ends iteration when closed', async () => {
        const subscription = store.subscribeToAll({ from: 'end' });
        const reader = readItems(subscription);
        await reader.until((items) => items.some((i) => i.kind === 'caughtUp'));
        await subscription.close();
        await expect(reader.done).resolves.toBeUndefined();
      });
    });
  });
}

function ev(type: string): NewEvent {
  return { id: randomUUID(), type, data: { type }, metadata: {} };
}

async function types(store: EventStore, stream: string): Promise<string[]> {
  return (await collect(store.readStream(stream))).map((e) => e.type);
}


