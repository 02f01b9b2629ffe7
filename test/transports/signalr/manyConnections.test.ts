import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, status, type TestServer } from '../../support/testServer.ts';
import { JobWatcher } from './support/jobWatcher.ts';
import { buildClient, HttpTransportType, type HubConnection } from '../../../packages/signalr-server/test/support/signalrClient.ts';
import { negotiateHub } from './support/statuscast.ts';
import { startTestHubServer } from '../../../packages/signalr-server/test/support/startTestHubServer.ts';
import { testToken } from '../../../packages/signalr-server/test/support/testAuthenticator.ts';
import { createTestHub } from '../../../packages/signalr-server/test/support/testHub.ts';

const activeTimers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

/** `count` clients spread over the three transports, in the given proportion. */
function mix(count: number): HttpTransportType[] {
  return Array.from({ length: count }, (_, i) =>
    i % 4 === 0 ? HttpTransportType.ServerSentEvents : i % 4 === 1 ? HttpTransportType.LongPolling : HttpTransportType.WebSockets,
  );
}

describe('hundreds of connections', () => {
  let t: TestServer;
  beforeAll(async () => {
    // 240 connections of one user: past the default per-user bound (100) on purpose.
    t = await startTestServer({ MAX_CONNECTIONS_PER_USER: '1000' }, { tuning: { signalr: { shutdownTimeoutMs: 300 } } });
  });
  afterAll(async () => {
    await t.close();
  });

  it('delivers to every subscriber and leaves no connection, subscription or gauge behind', async () => {
    const jobId = 'crowd-1';
    await t.ingest(status({ job_id: jobId }));
    const alice = await t.token('alice');
    const { url, accessToken } = await negotiateHub(t, alice, jobId);
    const subscribersBefore = t.server.liveFeed.subscriberCount;

    const clients: { connection: HubConnection; watcher: JobWatcher }[] = mix(240).map((transport) => {
      const connection = buildClient(url, { transport, token: () => accessToken });
      return { connection, watcher: new JobWatcher(connection) };
    });
    await Promise.all(clients.map(async ({ connection }) => {
      await connection.start();
      await connection.invoke('Subscribe', jobId, null);
    }));
    expect(t.server.signalr.connectionCount).toBe(240);
    expect(t.server.liveFeed.subscriberCount).toBe(subscribersBefore + 240);

    await t.ingest(status({ job_id: jobId }));
    await Promise.all(clients.map(({ watcher }) => watcher.until(() => watcher.latest.length === 1)));
    for (const { watcher } of clients) expect(watcher.revisions(jobId)).toEqual([1, 2]);

    await Promise.all(clients.map(({ connection }) => connection.stop()));
    await expect.poll(() => t.server.signalr.connectionCount, { timeout: 10_000 }).toBe(0);
    expect(t.server.liveFeed.subscriberCount).toBe(subscribersBefore);
    const gauge = await t.server.metrics.connections.get();
    for (const value of gauge.values.filter((v) => String(v.labels.transport).startsWith('signalr-'))) expect(value.value).toBe(0);
  });
});

describe('per-connection resources of the hub server', () => {
  it('returns to zero connections, sessions and timers after 300 connections come and go', async () => {
    const hub = createTestHub();
    const server = await startTestHubServer(hub);
    try {
      const timersBefore = activeTimers();
      for (const batch of [0, 1, 2]) {
        const clients = mix(100).map((transport) => buildClient(server.url, { transport, token: () => testToken(`user${batch}`) }));
        await Promise.all(clients.map((c) => c.start()));
        await Promise.all(clients.map((c) => c.invoke('Push', 2)));
        expect(server.hubServer.connectionCount).toBe(100);
        await Promise.all(clients.map((c) => c.stop()));
        await expect.poll(() => server.hubServer.connectionCount, { timeout: 10_000 }).toBe(0);
      }
      expect(hub.events).toEqual({ connected: 300, disconnected: 300 });
      expect(hub.sessions.size).toBe(0);
      // The heartbeat runs only while connections exist, and nothing else per connection lingers.
      await expect.poll(activeTimers, { timeout: 5_000 }).toBeLessThanOrEqual(timersBefore);
    } finally {
      await server.stop();
    }
  });
});
