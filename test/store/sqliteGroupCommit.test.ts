import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { collect, type EventStore, type NewEvent, WrongExpectedRevisionError } from '../../src/store/eventStore.ts';
import { createSqliteEventStore } from '../../src/store/sqlite/createSqliteEventStore.ts';
import { makeTempDir } from '../support/tempDir.ts';

const event = (id: string = randomUUID()): NewEvent => ({ id, type: 'test', data: { id }, metadata: {} });

/**
 * Concurrent appends share one transaction and one fsync (group commit); each call must still
 * succeed or fail on its own.
 */
describe.each([
  { name: 'on the writer thread', writerThread: true },
  { name: 'on the event loop', writerThread: false },
])('SQLite group commit $name', ({ writerThread }) => {
  let dispose: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await dispose?.();
    dispose = undefined;
  });

  function open(): EventStore {
    const dir = makeTempDir('group');
    const store = createSqliteEventStore({ file: join(dir.path, 'events.sqlite'), writerThread });
    dispose = async () => {
      await store.close();
      dir.remove();
    };
    return store;
  }

  it('fails a conflicting call alone; the calls committed with it are written', async () => {
    const store = open();
    const [before, conflicting, after] = await Promise.allSettled([
      store.appendToStreams([{ stream: 'a', events: [event()], expectedRevision: 'no_stream' }]),
      store.appendToStreams([{ stream: 'b', events: [event()], expectedRevision: 5 }]),
      store.appendToStreams([{ stream: 'c', events: [event()], expectedRevision: 'no_stream' }]),
    ]);
    expect(before.status).toBe('fulfilled');
    expect(after.status).toBe('fulfilled');
    expect(conflicting.status === 'rejected' && conflicting.reason).toBeInstanceOf(WrongExpectedRevisionError);
    expect((await collect(store.readAll())).map((e) => e.stream)).toEqual(['a', 'c']);
  });

  it('fails a call that breaks a constraint alone, writing none of its events', async () => {
    const store = open();
    const twice = randomUUID();
    const [good, broken, alsoGood] = await Promise.allSettled([
      store.appendToStreams([{ stream: 'a', events: [event()], expectedRevision: 'any' }]),
      // One id twice in one call: the second insert breaks the unique id.
      store.appendToStreams([
        { stream: 'b', events: [event()], expectedRevision: 'any' },
        { stream: 'c', events: [event(twice), event(twice)], expectedRevision: 'any' },
      ]),
      store.appendToStreams([{ stream: 'd', events: [event()], expectedRevision: 'any' }]),
    ]);
    expect(good.status).toBe('fulfilled');
    expect(alsoGood.status).toBe('fulfilled');
    expect(broken.status).toBe('rejected');
    expect((await collect(store.readAll())).map((e) => e.stream)).toEqual(['a', 'd']);
  });

  it('answers every call of a large concurrent burst, each with its own positions', async () => {
    const store = open();
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) => store.appendToStreams([{ stream: `s-${i % 7}`, events: [event()], expectedRevision: 'any' }])),
    );
    const positions = results.map(([r]) => r!.position.commit);
    expect(new Set(positions).size).toBe(200);
    expect((await collect(store.readAll())).length).toBe(200);
  });
});
