import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { withAuditChain } from '../../src/audit/withAuditChain.ts';
import { GENESIS_HASH, chainHash } from '../../src/audit/chainHash.ts';
import { CHAIN_RECORD_STREAM_PREFIX } from '../../src/audit/chainRecords.ts';
import { chainLinkOf, readChain } from '../../src/audit/readChain.ts';
import { verifyStoredStream } from '../../src/audit/verifyStore.ts';
import { type EventStore, type NewEvent, WrongExpectedRevisionError, appendToStream, collect } from '../../src/store/eventStore.ts';

export interface ChainSubject {
  /** The bare store (no chain), for writing "old" events and reading what was stored. */
  readonly store: EventStore;
  /** A second, independent connection to the same store: another process, as far as the chain can tell. */
  openAnother(): Promise<EventStore>;
  dispose(): Promise<void>;
}

/**
 * The audit chain over one store engine (docs/audit.md). The chain is a layer over the
 * `EventStore` port, so it must hold on every adapter: run this suite for each one, the way
 * `eventStoreContract.ts` is run.
 */
export function describeAuditChainContract(engine: string, createSubject: () => Promise<ChainSubject>): void {
  describe(`audit chain on ${engine}`, () => {
    let subject: ChainSubject;
    let chained: EventStore;
    const others: EventStore[] = [];
    let prefix: string;
    const stream = (name: string) => `${prefix}${name}`;

    beforeEach(async () => {
      subject = await createSubject();
      chained = withAuditChain(subject.store);
      prefix = `job-a${randomUUID().slice(0, 8)}-`;
    });
    afterEach(async () => {
      for (const other of others.splice(0)) await other.close();
      await subject.dispose();
    });

    async function expectIntact(name: string, length: number) {
      const verdict = await verifyStoredStream(subject.store, name);
      expect(verdict).toMatchObject({ ok: true, lastRevision: length - 1 });
    }

    it('chains every appended event from the genesis hash, each from the one before', async () => {
      await appendToStream(chained, stream('a'), [ev('One'), ev('Two')], 'no_stream');
      await appendToStream(chained, stream('a'), [ev('Three')], 1);
      const stored = await collect(subject.store.readStream(stream('a')));
      expect(stored[0]!.metadata['prev_hash']).toBe(GENESIS_HASH);
      for (const [i, event] of stored.entries()) {
        const prevHash = i === 0 ? GENESIS_HASH : (stored[i - 1]!.metadata['hash'] as string);
        expect(event.metadata['prev_hash']).toBe(prevHash);
        expect(event.metadata['hash']).toBe(chainHash({ ...event, prevHash }));
        expect(event.metadata['source']).toBe('test');
      }
      await expectIntact(stream('a'), 3);
    });

    it('hashes exactly what the store gives back: unicode, numbers, nesting, dropped undefined', async () => {
      const data = {
        text: 'naïve — ✓ "quoted"\n\u2028 😀',
        numbers: [0, -1, 2.5, 1e21, 1e-7, 9007199254740991, 0.1 + 0.2],
        nested: { z: 1, a: { list: [null, true, false, {}] } },
        skipped: undefined,
      };
      await appendToStream(chained, stream('a'), [{ id: randomUUID(), type: 'Typed', data, metadata: { é: 'ü', message_id: null } }], 'no_stream');
      await expectIntact(stream('a'), 1);
    });

    it('chains each stream of a multi-stream call, and two appends to one stream in one call', async () => {
      await chained.appendToStreams([
        { stream: stream('a'), events: [ev('A0')], expectedRevision: 'no_stream' },
        { stream: stream('b'), events: [ev('B0'), ev('B1')], expectedRevision: 'no_stream' },
      ]);
      await chained.appendToStreams([
        { stream: stream('a'), events: [ev('A1')], expectedRevision: 0 },
        { stream: stream('a'), events: [ev('A2')], expectedRevision: 1 },
      ]);
      await expectIntact(stream('a'), 3);
      await expectIntact(stream('b'), 2);
    });

    it("turns 'any' and 'stream_exists' into the revision it chained from", async () => {
      await appendToStream(chained, stream('a'), [ev('One')], 'any');
      await appendToStream(chained, stream('a'), [ev('Two')], 'stream_exists');
      await appendToStream(chained, stream('a'), [ev('Three')], 'any');
      await expectIntact(stream('a'), 3);
      await expect(appendToStream(chained, stream('missing'), [ev('X')], 'stream_exists')).rejects.toBeInstanceOf(WrongExpectedRevisionError);
    });

    it('keeps the chain whole when writers race: the loser conflicts, and its retry chains after the winner', async () => {
      const another = withAuditChain(await openAnother());
      await appendToStream(chained, stream('a'), [ev('Zero')], 'no_stream');
      const outcomes = await Promise.allSettled([
        appendToStream(chained, stream('a'), [ev('Left')], 0),
        appendToStream(another, stream('a'), [ev('Right')], 0),
      ]);
      expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
      const lost = outcomes.find((o) => o.status === 'rejected') as PromiseRejectedResult;
      expect(lost.reason).toBeInstanceOf(WrongExpectedRevisionError);
      // The command handler's retry: read the head again and append after it.
      const writer = outcomes[0]!.status === 'rejected' ? chained : another;
      await appendToStream(writer, stream('a'), [ev('Retried')], 1);
      await expectIntact(stream('a'), 3);
    });

    it('writes nothing twice when an append is retried with the same event ids', async () => {
      const events = [ev('One'), ev('Two')];
      await appendToStream(chained, stream('a'), events, 'no_stream');
      const retry = await appendToStream(chained, stream('a'), events, 'no_stream');
      expect(retry.written.map((w) => w.revision)).toEqual([0, 1]);
      await appendToStream(chained, stream('a'), [ev('Three')], 1);
      await expectIntact(stream('a'), 3);
    });

    it('refuses metadata that uses the chain’s keys, writing nothing', async () => {
      const forged = { ...ev('Forged'), metadata: { hash: 'f'.repeat(64) } };
      await expect(appendToStream(chained, stream('a'), [forged], 'no_stream')).rejects.toThrow(/belong to the audit chain/);
      expect(await subject.store.streamRevision(stream('a'))).toBeNull();
    });

    it('upgrades a stream written before the chain: records its hashes beside it, rewrites nothing, chains on', async () => {
      const old = [ev('Old0'), ev('Old1'), ev('Old2')];
      await appendToStream(subject.store, stream('a'), old, 'no_stream');
      const before = await collect(subject.store.readStream(stream('a')));
      await appendToStream(chained, stream('a'), [ev('New3')], 2);

      const after = await collect(subject.store.readStream(stream('a')));
      expect(after.slice(0, 3)).toEqual(before);
      const side = await collect(subject.store.readStream(`${CHAIN_RECORD_STREAM_PREFIX}${stream('a')}`));
      expect(side).toHaveLength(1);
      expect(side[0]!.data).toMatchObject({ stream: stream('a'), first_revision: 0, prev_hash: GENESIS_HASH });
      const entries = await collect(readChain(subject.store, stream('a')));
      expect(entries.map((e) => Boolean(e.backfilledAt))).toEqual([true, true, true, false]);
      expect(after[3]!.metadata['prev_hash']).toBe(entries[2]!.hash);
      expect(entries.every((e) => chainLinkOf(e).intact)).toBe(true);
      await expectIntact(stream('a'), 4);
      // Side streams stay out of job readers' way: they do not start with `job-`.
      const jobEvents = await collect(subject.store.readAll({ filter: { streamNamePrefixes: [prefix] } }));
      expect(jobEvents.map((e) => e.type)).toEqual(['Old0', 'Old1', 'Old2', 'New3']);
    });

    async function openAnother(): Promise<EventStore> {
      const other = await subject.openAnother();
      others.push(other);
      return other;
    }
  });
}

function ev(type: string): NewEvent {
  return { id: randomUUID(), type, data: { type, at: new Date(0).toISOString() }, metadata: { source: 'test' } };
}
