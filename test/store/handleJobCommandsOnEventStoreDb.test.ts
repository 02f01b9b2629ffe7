import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { jobStreamName } from '../../src/domain/job/events.ts';
import { createIngestStatus, type IngestStatus } from '../../src/ingest/ingestStatus.ts';
import { createMetrics } from '../../src/observability/metrics.ts';
import { collect, type EventStore } from '../../src/store/eventStore.ts';
import { createEventStoreDbEventStore } from '../../src/store/eventStoreDb/index.ts';
import { createJobCommandHandler } from '../../src/store/handleJobCommands.ts';
import { createJobDirectory } from '../../src/store/jobDirectory.ts';
import { type EventStoreDbStandIn, startEventStoreDbStandIn } from '../support/eventStoreDbStandIn/index.ts';
import { status } from '../support/testServer.ts';

/**
 * The command handler on EventStoreDB, where a batch spanning several jobs is appended job by
 * job. The real server checks event ids only when an append names a revision *before* the
 * stream's current one (KurrentDB `IndexWriter.CheckCommit`: `expectedVersion <
 * currentVersion` → idempotency check; `==` → written as new), so a retry that re-reads a
 * job and appends at its new revision writes everything again unless the handler knows what
 * was written.
 */
describe('command handler on EventStoreDB (stand-in): a batch spanning several jobs', () => {
  let standIn: EventStoreDbStandIn;
  const stores: EventStore[] = [];
  const ingests: IngestStatus[] = [];

  function node(): IngestStatus {
    const store = createEventStoreDbEventStore({ connectionString: standIn.connectionString });
    stores.push(store);
    const handler = createJobCommandHandler({ store, directory: createJobDirectory(store) });
    const ingest = createIngestStatus({ handler, logger: pino({ level: 'silent' }), metrics: createMetrics({ defaultMetrics: false }) });
    ingests.push(ingest);
    return ingest;
  }
  const context = { source: 'http' as const, ingestedBy: 'worker' };
  const reported = async (jobId: string) =>
    (await collect(stores[0]!.readStream(jobStreamName(jobId)))).filter((e) => e.type === 'StatusReported').map((e) => e.data['message']);

  beforeEach(async () => {
    standIn = await startEventStoreDbStandIn();
  });
  afterEach(async () => {
    await Promise.all(stores.splice(0).map((store) => store.close()));
    ingests.length = 0;
    await standIn.stop();
  });

  it('appends a message without message_id once when another job of the batch conflicts and is retried', async () => {
    const first = node();
    const other = node();
    await first({ messages: [status({ job_id: 'multi-a', message: 'a0' }), status({ job_id: 'multi-b', message: 'b0' })] }, context);
    // Another node moves job B on: the first node's folded B is stale now.
    await other(status({ job_id: 'multi-b', message: 'b-other' }), context);

    const results = await first(
      {
        messages: [
          status({ job_id: 'multi-a', message_id: undefined, message: 'a1' }),
          status({ job_id: 'multi-b', message_id: undefined, message: 'b1' }),
        ],
      },
      context,
    );

    expect(results.map((r) => r.outcome)).toEqual(['appended', 'appended']);
    expect(await reported('multi-a')).toEqual(['a0', 'a1']);
    expect(await reported('multi-b')).toEqual(['b0', 'b-other', 'b1']);
  });

  it('appends nothing twice when a publisher retries a batch whose second job timed out', async () => {
    const ingest = node();
    const body = {
      messages: [
        status({ job_id: 'retry-a', message_id: undefined, message: 'a0' }),
        status({ job_id: 'retry-b', message_id: undefined, message: 'b0' }),
      ],
    };
    standIn.failNextAppend(jobStreamName('retry-b'));
    await expect(ingest(body, context)).rejects.toMatchObject({ kind: 'unavailable' });
    expect(await reported('retry-a')).toEqual(['a0']);

    // The publisher sends the very same body again, as after any 503.
    const results = await ingest(body, context);
    expect(results.map((r) => r.outcome)).toEqual(['duplicate', 'appended']);
    // The key derived for the message without one is reported, so a publisher can log it.
    expect(results[0]!.message_id).toMatch(/^auto:[0-9a-f]{32}$/);
    expect(await reported('retry-a')).toEqual(['a0']);
    expect(await reported('retry-b')).toEqual(['b0']);
  });

  it('recognises a commit that timed out after it was written, on the retry of the same body', async () => {
    const ingest = node();
    const body = status({ job_id: 'timeout-a', message_id: undefined, message: 'a0' });
    standIn.failNextAppend(jobStreamName('timeout-a'), { written: true });
    await expect(ingest(body, context)).rejects.toMatchObject({ kind: 'unavailable' });
    const results = await ingest(body, context);
    expect(results.map((r) => r.outcome)).toEqual(['duplicate']);
    expect(await reported('timeout-a')).toEqual(['a0']);
  });
});

/**
 * A client on a follower (or left on the old leader after a failover) reads stale data
 * unless a read requires the leader. Appends always go to the leader.
 */
describe('command handler on EventStoreDB (stand-in): a lagging follower serves the reads', () => {
  let standIn: EventStoreDbStandIn;
  const stores: EventStore[] = [];

  beforeEach(async () => {
    standIn = await startEventStoreDbStandIn();
  });
  afterEach(async () => {
    await Promise.all(stores.splice(0).map((store) => store.close()));
    await standIn.stop();
  });

  function node(): IngestStatus {
    const store = createEventStoreDbEventStore({ connectionString: standIn.connectionString });
    stores.push(store);
    const handler = createJobCommandHandler({ store, directory: createJobDirectory(store) });
    return createIngestStatus({ handler, logger: pino({ level: 'silent' }), metrics: createMetrics({ defaultMetrics: false }) });
  }
  const context = { source: 'http' as const, ingestedBy: 'worker' };

  it('reports a durable append as appended, and another node decides on the current stream', async () => {
    const first = node();
    const second = node();
    await first(status({ job_id: 'lag-job', message: 'm0' }), context);
    standIn.lagFollower();

    // The read-back after the append must not come from the follower …
    const [appended] = await first(status({ job_id: 'lag-job', message: 'm1' }), context);
    expect(appended).toMatchObject({ outcome: 'appended', revision: 2 });
    // … nor the stream read of a node that has not folded the job yet.
    const [next] = await second(status({ job_id: 'lag-job', message: 'm2' }), context);
    expect(next).toMatchObject({ outcome: 'appended', revision: 3 });

    standIn.catchUpFollower();
    const events = await collect(stores[0]!.readStream(jobStreamName('lag-job')));
    expect(events.map((e) => e.data['message'])).toEqual([undefined, 'm0', 'm1', 'm2']);
  });
});
