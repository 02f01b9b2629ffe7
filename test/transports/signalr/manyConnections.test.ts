import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, status, type TestServer } from '../../support/testServer.ts';
import { JobWatcher } from './support/jobWatcher.ts';
import { buildClient, HttpTransportType, type HubConnection } from '../../../packages/signalr-server/test/support/signalrClient.ts';
import { negotiateHub } from './support/statuscast.ts';

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
