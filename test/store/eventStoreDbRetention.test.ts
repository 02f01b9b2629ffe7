import { Writable } from 'node:stream';
import { EventStoreDBClient } from '@eventstore/db-client';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { jobStreamName } from '../../src/domain/job/events.ts';
import { type EventStoreDbStandIn, startEventStoreDbStandIn } from '../support/eventStoreDbStandIn/index.ts';
import { eventually, status, type TestServer, startTestServer } from '../support/testServer.ts';

/**
 * "Replay never expires" holds only while no job stream carries truncating metadata:
 * `$maxCount`, `$maxAge` or `$tb` in its `$$job-…` metadata stream (a soft delete writes
 * `$tb`). The server then hides and later scavenges the events, and neither a client
 * resuming by revision nor an auditor can get them back. The client writes metadata as a
 * `$metadata` event to `$$<stream>` (client 6.2 `setStreamMetadata`), which is what the
 * stand-in stores.
 */
describe('EventStoreDB (stand-in): truncating metadata on job streams', () => {
  let standIn: EventStoreDbStandIn;
  let t: TestServer | undefined;

  beforeEach(async () => {
    standIn = await startEventStoreDbStandIn();
  });
  afterEach(async () => {
    await t?.close();
    t = undefined;
    await standIn.stop();
  });

  it('is reported at start: one warning naming the streams and their settings, and a gauge', async () => {
    const first = await startTestServer({ EVENTSTORE_CONNECTION_STRING: standIn.connectionString });
    await first.ingest(status({ job_id: 'capped-job' }));
    await first.ingest(status({ job_id: 'aged-job' }));
    await first.ingest(status({ job_id: 'plain-job' }));
    await first.close();

    const client = EventStoreDBClient.connectionString(standIn.connectionString);
    await client.setStreamMetadata(jobStreamName('capped-job'), { maxCount: 10 });
    await client.setStreamMetadata(jobStreamName('aged-job'), { maxAge: 86_400 });
    await client.setStreamMetadata(jobStreamName('plain-job'), { custom: 'no truncation' } as never);
    await client.dispose();

    let logs = '';
    const logger = pino({ level: 'info' }, new Writable({ write: (chunk, _enc, done) => ((logs += chunk), done()) }));
    t = await startTestServer({ EVENTSTORE_CONNECTION_STRING: standIn.connectionString }, { logger });
    const line = await eventually(() => logs.split('\n').find((l) => l.includes('truncat')), 10_000, 'the warning');
    const entry = JSON.parse(line!) as { level: number; streams: Record<string, unknown>; count: number };
    expect(entry.level).toBe(40);
    expect(entry.count).toBe(2);
    expect(entry.streams).toEqual({ 'job-capped-job': { $maxCount: 10 }, 'job-aged-job': { $maxAge: 86_400 } });
    const metrics = await (await fetch(`${t.url}/metrics`)).text();
    expect(metrics).toMatch(/statuscast_store_truncating_job_streams 2/);
  });
});
