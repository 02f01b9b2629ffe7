import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nestedObjectJson } from '../support/nestedJson.ts';
import { startTestServer, status, type TestServer } from '../support/testServer.ts';
import { RS, RawWebSocketClient } from '../../packages/signalr-server/test/support/rawClient.ts';

describe('issue 11, the small findings', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(async () => {
    await t?.close();
  });

  it.each(['.', '..'])('refuses the job id %j: its stream URL would name another route', async (jobId) => {
    const { status: code, body } = await t.ingest(status({ job_id: jobId }));
    expect(code).toBe(400);
    expect(body.errors).toEqual([expect.objectContaining({ path: 'job_id' })]);
    const alice = await t.token('alice');
    const hub = await RawWebSocketClient.handshaken(`${t.url}/hubs/status`, alice);
    try {
      hub.send(`${JSON.stringify({ type: 1, invocationId: 's', target: 'Subscribe', arguments: [jobId, null] })}${RS}`);
      await hub.until((c) => c.ofType(3).length === 1);
      expect(hub.ofType(3)[0]!['error']).toMatch(/^Invalid arguments for 'Subscribe': job_id/);
    } finally {
      hub.socket.terminate();
    }
  });

  it('still accepts ids with dots in them', async () => {
    expect((await t.ingest(status({ job_id: '...' }))).status).toBe(202);
    expect((await t.ingest(status({ job_id: 'v1.2.3' }))).status).toBe(202);
  });

  it('answers details nested 5,000 levels deep (a 30 KB body) with 400 naming details, and appends nothing', async () => {
    const message = JSON.stringify(status({ job_id: 'deep-1' })).replace(/}$/, `,"details":${nestedObjectJson(5_000)}}`);
    const { status: code, body } = await t.ingest(message);
    expect(code).toBe(400);
    expect(body).toMatchObject({ status: 400, errors: [{ index: 0, path: 'details', message: 'must not be nested deeper than 32 levels' }] });
    const alice = await t.token('alice');
    expect((await fetch(`${t.url}/jobs/deep-1`, { headers: { authorization: `Bearer ${alice}` } })).status).toBe(404);
  });

  it('accepts details nested 32 levels deep', async () => {
    const message = JSON.stringify(status({ job_id: 'deep-2' })).replace(/}$/, `,"details":${nestedObjectJson(31)}}`);
    expect((await t.ingest(message)).status).toBe(202);
  });
});
