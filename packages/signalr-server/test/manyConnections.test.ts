import { describe, expect, it } from 'vitest';
import { buildClient, HttpTransportType } from './support/signalrClient.ts';
import { startTestHubServer } from './support/startTestHubServer.ts';
import { testToken } from './support/testAuthenticator.ts';
import { createTestHub } from './support/testHub.ts';

const activeTimers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

/** `count` clients spread over the three transports, in the given proportion. */
function mix(count: number): HttpTransportType[] {
  return Array.from({ length: count }, (_, i) =>
    i % 4 === 0 ? HttpTransportType.ServerSentEvents : i % 4 === 1 ? HttpTransportType.LongPolling : HttpTransportType.WebSockets,
  );
}

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
