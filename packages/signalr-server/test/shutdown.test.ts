import { describe, expect, it } from 'vitest';
import { RawWebSocketClient } from './support/rawClient.ts';
import { buildClient, TRANSPORTS } from './support/signalrClient.ts';
import { startTestHubServer } from './support/startTestHubServer.ts';
import { testToken } from './support/testAuthenticator.ts';
import { createTestHub } from './support/testHub.ts';

describe('graceful shutdown', () => {
  it('sends Close with allowReconnect to every connection on every transport and ends them', async () => {
    const hub = createTestHub();
    const server = await startTestHubServer(hub, { limits: { shutdownTimeoutMs: 5_000 } });
    const raw = await RawWebSocketClient.handshaken(server.url, testToken('alice'));
    const clients = TRANSPORTS.map(([name, transport]) => {
      const connection = buildClient(server.url, { transport, token: () => testToken('alice'), automaticReconnect: [60_000] });
      const reconnecting = new Promise<Error | undefined>((resolve) => connection.onreconnecting(resolve));
      return { name, connection, reconnecting };
    });
    await Promise.all(clients.map((c) => c.connection.start()));
    expect(server.hubServer.connectionCount).toBe(4);

    const stopping = server.hubServer.close();
    const negotiate = await fetch(`${server.url}/negotiate?negotiateVersion=1`, { method: 'POST', headers: { authorization: `Bearer ${testToken('alice')}` } });
    expect(negotiate.status).toBe(503);
    await stopping;

    expect(await raw.closed()).toBe(1000);
    expect(raw.ofType(7)).toEqual([{ type: 7, allowReconnect: true }]);
    // Each official client treats it as a reason to reconnect, not as a final close.
    for (const { reconnecting } of clients) expect(await reconnecting).toBeUndefined();
    expect(server.hubServer.connectionCount).toBe(0);
    expect(hub.events.disconnected).toBe(4);
    await Promise.all(clients.map((c) => c.connection.stop()));
    await server.stop();
  });
});
