import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { jobStreamName } from '../../src/domain/job/events.ts';
import { loadConfig } from '../../src/config.ts';
import { startServer } from '../../src/server.ts';
import { type EventStoreDbStandIn, startEventStoreDbStandIn } from '../support/eventStoreDbStandIn/index.ts';
import { makeTempDir } from '../support/tempDir.ts';
import { status, type TestServer, startTestServer } from '../support/testServer.ts';

/**
 * What the real server refuses, as the client reports it (`@eventstore/db-client` 6.2
 * `StreamDeletedError`, `MaxAppendSizeExceededError`), must reach HTTP as our own answers:
 * never a vendor type and never a 500 for something the caller caused or can do nothing about.
 */
describe('EventStoreDB (stand-in): refusals become our answers', () => {
  let standIn: EventStoreDbStandIn;
  let t: TestServer;

  beforeEach(async () => {
    // A server configured with a small MaxAppendSize, so one request can pass it.
    standIn = await startEventStoreDbStandIn({ maxAppendSize: 64 * 1024 });
    t = await startTestServer({ EVENTSTORE_CONNECTION_STRING: standIn.connectionString });
  });
  afterEach(async () => {
    await t.close();
    await standIn.stop();
  });

  it("rejects status for a hard-deleted job, appends the rest of the batch, and answers 404 for the deleted job's history", async () => {
    expect((await t.ingest(status({ job_id: 'deleted-job' }))).status).toBe(202);
    standIn.tombstoneStream(jobStreamName('deleted-job'));

    const answer = await t.ingest({ messages: [status({ job_id: 'deleted-job' }), status({ job_id: 'live-job' })] });
    expect(answer.status).toBe(202);
    expect(answer.body.results.map((r: { outcome: string }) => r.outcome)).toEqual(['rejected', 'appended']);
    expect(answer.body.results[0].reason).toMatch(/deleted/);

    const alice = await t.token('alice');
    const response = await fetch(`${t.url}/jobs/deleted-job/history`, { headers: { authorization: `Bearer ${alice}` } });
    expect(response.status).toBe(404);
    expect(response.headers.get('content-type')).toMatch(/problem\+json/);
  });

  it('rejects the messages of a job whose events exceed the maximum append size, and appends the others', async () => {
    const big = Array.from({ length: 8 }, (_, i) => status({ job_id: 'huge-job', details: { blob: 'x'.repeat(12_000), i } }));
    const answer = await t.ingest({ messages: [...big, status({ job_id: 'small-job' })] });
    expect(answer.status).toBe(202);
    expect(answer.body.results.map((r: { outcome: string }) => r.outcome)).toEqual([...big.map(() => 'rejected'), 'appended']);
    expect(answer.body.results[0].reason).toMatch(/maximum append size \(65536 bytes\)/);
  });
});

describe('EventStoreDB connection string with throwOnAppendFailure=false', () => {
  it('stops start-up with one line naming the setting (the client would report a failed append as success)', async () => {
    const standIn = await startEventStoreDbStandIn();
    const dir = makeTempDir('esdb-throw');
    try {
      const config = loadConfig({
        DATA_DIR: dir.path,
        PORT: '0',
        LOG_LEVEL: 'silent',
        EVENTSTORE_CONNECTION_STRING: `${standIn.connectionString}&throwOnAppendFailure=false`,
      });
      await expect(startServer(config)).rejects.toThrow(/throwOnAppendFailure=false/);
    } finally {
      dir.remove();
      await standIn.stop();
    }
  });
});
