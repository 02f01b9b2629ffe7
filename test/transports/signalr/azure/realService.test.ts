import { HubConnectionBuilder, HttpTransportType, LogLevel, type HubConnection } from '@microsoft/signalr';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startTestServer, status, type TestServer } from '../../../support/testServer.ts';

/**
 * Opt-in: runs only with `AZURE_SIGNALR_TEST_CONNECTION_STRING` set to a real service's
 * connection string (AccessKey form). Never run in CI here (no service); see docs/azure-signalr.md.
 */
const connectionString = process.env['AZURE_SIGNALR_TEST_CONNECTION_STRING'];

describe.skipIf(!connectionString)('against a real Azure SignalR Service (AZURE_SIGNALR_TEST_CONNECTION_STRING)', () => {
  let t: TestServer;
  let connection: HubConnection | undefined;

  beforeAll(async () => {
    t = await startTestServer({ AZURE_SIGNALR_CONNECTION_STRING: connectionString! });
  });
  afterAll(async () => {
    await connection?.stop();
    await t.close();
  });

  it('negotiate redirects to the service, the client connects, and the job group receives live events in order', async () => {
    const jobId = `real-${Date.now()}`;
    const user = `statuscast-test-${process.pid}`;
    expect((await t.ingest(status({ job_id: jobId, user_id: user }))).status).toBe(202);
    const token = await t.token(user);
    connection = new HubConnectionBuilder()
      .withUrl(`${t.url}/jobs/${jobId}/signalr`, { transport: HttpTransportType.WebSockets, accessTokenFactory: () => token })
      .configureLogging(LogLevel.Warning)
      .build();
    const live: string[] = [];
    connection.on('timeline.event', (a: { event: { revision: number } }) => live.push(`event:${a.event.revision}`));
    connection.on('status.latest', (a: { revision: number }) => live.push(`latest:${a.revision}`));
    await connection.start();
    for (let i = 0; i < 3; i++) expect((await t.ingest(status({ job_id: jobId, user_id: user }))).status).toBe(202);
    await eventually(() => live.length === 6, 30_000, 'live events through the service');
    expect(live).toEqual(['event:2', 'latest:2', 'event:3', 'latest:3', 'event:4', 'latest:4']);
  });
});
