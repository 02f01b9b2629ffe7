import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { jobStreamName } from '../../src/domain/job/events.ts';
import { collect } from '../../src/store/eventStore.ts';
import { comparePositions } from '../../src/store/position.ts';
import { type EventStoreDbStandIn, startEventStoreDbStandIn } from '../support/eventStoreDbStandIn/index.ts';
import { openSse } from '../support/sseReader.ts';
import { eventually, status, type TestServer, startTestServer } from '../support/testServer.ts';

/**
 * Records in `$all` that statuscast did not write, under a `job-` stream name: a hard
 * delete's `$streamDeleted` tombstone (KurrentDB `SystemEventTypes.StreamDeleted`, written to
 * the deleted stream itself, not JSON, revision `long.MaxValue`), or an event someone else
 * wrote as bytes. The stream-name prefix filter lets them through; they must never stop the
 * projection runner or the live feed, which would otherwise restart at the same position and
 * hit the same record for ever.
 */
describe('EventStoreDB (stand-in): foreign records in job streams', () => {
  let standIn: EventStoreDbStandIn;
  let t: TestServer;

  beforeEach(async () => {
    standIn = await startEventStoreDbStandIn();
    t = await startTestServer({ EVENTSTORE_CONNECTION_STRING: standIn.connectionString });
  });
  afterEach(async () => {
    await t.close();
    await standIn.stop();
  });

  const latestMessage = async (jobId: string, token: string) => {
    const response = await fetch(`${t.url}/jobs/${jobId}`, { headers: { authorization: `Bearer ${token}` } });
    return response.status === 200 ? ((await response.json()) as { latest_status: { message: string } | null }).latest_status?.message : undefined;
  };

  it('a tombstone of a job stream neither stalls the read models nor the live feed; it is counted and logged', async () => {
    const alice = await t.token('alice');
    expect((await t.ingest(status({ job_id: 'gone', message: 'before delete' }))).status).toBe(202);
    expect((await t.ingest(status({ job_id: 'kept', message: 'first' }))).status).toBe(202);
    await eventually(async () => (await latestMessage('kept', alice)) === 'first', 10_000, 'the first status projected');
    const feed = await openSse(`${t.url}/events`, { authorization: `Bearer ${alice}` });

    standIn.tombstoneStream(jobStreamName('gone'));
    expect((await t.ingest(status({ job_id: 'kept', message: 'after the tombstone' }))).status).toBe(202);

    await eventually(async () => (await latestMessage('kept', alice)) === 'after the tombstone', 10_000, 'the read model to move past the tombstone');
    const frames = await feed.waitForEvents(1, 'timeline.event');
    expect(JSON.parse(frames[0]!.data)).toMatchObject({ job_id: 'kept', event: { message: 'after the tombstone' } });
    feed.close();
    const metrics = await (await fetch(`${t.url}/metrics`)).text();
    expect(metrics).toMatch(/statuscast_store_skipped_records_total\{reason="system"\} [1-9]/);
  });
});

/**
 * Positions handed to clients come from the projection's checkpoint (`GET /jobs`) and the live
 * feed; with EventStoreDB those are often checkpoints, which the server issues every 32
 * examined records of any stream, the server's own `$`-typed ones included (KurrentDB
 * `Enumerator.AllSubscriptionFiltered`: `_checkpointInterval = multiplier × maxSearchWindow`,
 * counted over considered events; live `CheckpointReached` at the considered event). Every
 * such position must be accepted as a resume point.
 */
describe('EventStoreDB (stand-in): positions issued at system records', () => {
  let standIn: EventStoreDbStandIn;
  let t: TestServer;

  beforeEach(async () => {
    standIn = await startEventStoreDbStandIn();
    t = await startTestServer({ EVENTSTORE_CONNECTION_STRING: standIn.connectionString });
  });
  afterEach(async () => {
    await t.close();
    await standIn.stop();
  });

  it("GET /jobs' position, taken at a checkpoint past the last job event, is accepted by /events", async () => {
    const alice = await t.token('alice');
    expect((await t.ingest(status({ job_id: 'positions-job' }))).status).toBe(202);
    const lastJobEvent = (await collect(t.server.store.readStream(jobStreamName('positions-job')))).at(-1)!.position;
    // The server writes its own records (statistics every 30 s on a real node).
    for (let i = 0; i < 40; i++) standIn.appendSystemEvent();
    await eventually(() => {
      const checkpoint = t.server.projections.checkpoint;
      return checkpoint !== null && comparePositions(checkpoint, lastJobEvent) > 0;
    }, 10_000, 'a checkpoint past the last job event');

    const jobs = (await (await fetch(`${t.url}/jobs`, { headers: { authorization: `Bearer ${alice}` } })).json()) as { position: string };
    const feed = await openSse(`${t.url}/events?after=${jobs.position}`, { authorization: `Bearer ${alice}` });
    expect(feed.status).toBe(200);
    feed.close();
  });
});
