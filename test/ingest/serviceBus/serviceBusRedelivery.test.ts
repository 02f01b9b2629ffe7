import { afterEach, describe, expect, it } from 'vitest';
import { startEventStoreDbStandIn, type EventStoreDbStandIn } from '../../support/eventStoreDbStandIn/index.ts';
import { createServiceBusStandIn } from '../../support/serviceBusStandIn/index.ts';
import { makeTempDir } from '../../support/tempDir.ts';
import { eventually, status } from '../../support/testServer.ts';
import { type ServiceBusTestServer, jobEvents, metricValue, settled, settlementsOf, startServiceBusTestServer } from './support/serviceBusTestServer.ts';

/**
 * The process dies after the append is durable and before its `complete` reaches the broker.
 * The lock expires, the message is delivered again — to the restarted node, or to another
 * node on the same EventStoreDB — and must be recognised, not appended a second time.
 */
describe('Service Bus ingest: a crash between append and complete', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
    cleanups.length = 0;
  });

  async function twoLives(store: 'sqlite' | 'eventstoredb'): Promise<[() => Promise<ServiceBusTestServer>, () => Promise<ServiceBusTestServer>]> {
    const standIn = createServiceBusStandIn();
    if (store === 'sqlite') {
      // The same node restarted: same DATA_DIR, same embedded store.
      const dir = makeTempDir('sb-crash');
      cleanups.push(() => dir.remove());
      const life = () => startServiceBusTestServer({ standIn, dataDir: dir.path });
      return [life, life];
    }
    // Another node takes over: its own DATA_DIR, the same EventStoreDB.
    const esdb: EventStoreDbStandIn = await startEventStoreDbStandIn();
    cleanups.push(() => esdb.stop());
    const env = { EVENTSTORE_CONNECTION_STRING: esdb.connectionString };
    const node = () => startServiceBusTestServer({ standIn, env });
    return [node, node];
  }

  it.each([
    ['the node restarts on its embedded store', 'sqlite'],
    ['another node on the same EventStoreDB (stand-in) takes over', 'eventstoredb'],
  ] as const)('redelivery completes as duplicate and appends nothing twice: %s', async (_name, store) => {
    const [firstLife, secondLife] = await twoLives(store);
    const first = await firstLife();
    let firstClosed = false;
    cleanups.push(async () => {
      if (!firstClosed) await first.close();
    });
    const { standIn } = first;
    first.receiver.freezeSettlements();
    const sent = [
      // A message with its own message_id …
      standIn.send({ body: status({ job_id: 'sb-crash-1', message_id: 'own-id-1' }) }),
      // … one keyed only by the Service Bus messageId …
      standIn.send({ body: status({ job_id: 'sb-crash-2', message_id: undefined }), messageId: 'sb-message-2' }),
      // … and a batch whose entries carry no ids.
      standIn.send({
        messageId: 'sb-batch-3',
        body: { messages: [status({ job_id: 'sb-crash-3', message_id: undefined }), status({ job_id: 'sb-crash-3', message_id: undefined })] },
      }),
    ];
    const reported = async (jobId: string) =>
      (await jobEvents(first.t.server.store, jobId)).filter((e) => e.type === 'StatusReported').length;
    await eventually(async () => (await reported('sb-crash-1')) === 1 && (await reported('sb-crash-2')) === 1 && (await reported('sb-crash-3')) === 2, 10_000, 'the appends');
    expect(standIn.settlements).toEqual([]);

    // The process dies: its completes never arrive, the locks expire.
    first.receiver.crash();
    await first.close();
    firstClosed = true;
    expect(standIn.settlements.map((s) => [s.kind, s.ok])).toEqual([
      ['complete', false],
      ['complete', false],
      ['complete', false],
    ]);

    const second = await secondLife();
    cleanups.push(() => second.close());
    for (const seq of sent) {
      expect(await settled(standIn, seq)).toMatchObject({ kind: 'complete', ok: true, deliveryCount: 2, receiverId: second.receiver.identifier });
      expect(settlementsOf(standIn, seq)).toHaveLength(2);
    }
    const streams = await Promise.all(['sb-crash-1', 'sb-crash-2', 'sb-crash-3'].map((job) => jobEvents(second.t.server.store, job)));
    expect(streams.map((events) => events.map((e) => e.type))).toEqual([
      ['JobRegistered', 'StatusReported'],
      ['JobRegistered', 'StatusReported'],
      ['JobRegistered', 'StatusReported', 'StatusReported'],
    ]);
    expect(streams[2]!.slice(1).map((e) => e.data['message_id'])).toEqual(['sb-batch-3:0', 'sb-batch-3:1']);
    expect(await metricValue(second.t, 'statuscast_ingest_messages_total', { outcome: 'duplicate', source: 'servicebus' })).toBe(4);
    expect(await metricValue(second.t, 'statuscast_ingest_messages_total', { outcome: 'appended', source: 'servicebus' })).toBe(0);
    expect(standIn.pending()).toEqual([]);
  });
});
