import { afterEach, describe, expect, it } from 'vitest';
import { RS, RawWebSocketClient, rawNegotiate } from './support/rawClient.ts';
import { startTestHubServer, type RunningHubServer } from './support/startTestHubServer.ts';
import { testToken } from './support/testAuthenticator.ts';
import { createTestHub } from './support/testHub.ts';
import { buildClient, HttpTransportType, HubConnectionState } from './support/signalrClient.ts';
import type { HubServerMetrics } from '../src/index.ts';

const alice = testToken('alice');

/** Counts what the hub server reports. */
function recordingMetrics() {
  const counts = { opened: 0, closed: 0, drops: 0, sent: new Map<string, number>(), invocations: new Map<string, number>() };
  const metrics: HubServerMetrics = {
    connectionOpened: () => counts.opened++,
    connectionClosed: () => counts.closed++,
    messageSent: (_t, target) => counts.sent.set(target, (counts.sent.get(target) ?? 0) + 1),
    sendBufferDrop: () => counts.drops++,
    invocation: (method, outcome) => counts.invocations.set(`${method}:${outcome}`, (counts.invocations.get(`${method}:${outcome}`) ?? 0) + 1),
  };
  return { counts, metrics };
}

describe('keep-alive, timeouts and limits', () => {
  let server: RunningHubServer;
  const clients: RawWebSocketClient[] = [];
  afterEach(async () => {
    for (const client of clients.splice(0)) client.socket.terminate();
    await server.stop();
  });

  async function raw(version = 1, query?: string): Promise<RawWebSocketClient> {
    const client = await RawWebSocketClient.handshaken(server.url, alice, version, query);
    clients.push(client);
    return client;
  }

  it('pings a quiet WebSocket connection and closes one whose client sends nothing', async () => {
    server = await startTestHubServer(createTestHub(), { limits: { keepAliveIntervalMs: 100, clientTimeoutMs: 600, heartbeatIntervalMs: 25 } });
    const client = await raw();
    await client.until((c) => c.ofType(6).length >= 2);
    expect(client.closeCode).toBeNull();
    expect(await client.closed()).toBe(1000);
    expect(client.ofType(7)).toEqual([
      { type: 7, error: 'Client timeout elapsed without receiving a message from the client.', allowReconnect: true },
    ]);
  });

  it('keeps a connection alive while its client pings', async () => {
    server = await startTestHubServer(createTestHub(), { limits: { keepAliveIntervalMs: 100, clientTimeoutMs: 800, heartbeatIntervalMs: 25 } });
    const client = await raw();
    for (let i = 0; i < 10; i++) {
      client.send(`{"type":6}${RS}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(client.closeCode).toBeNull();
  });

  it('cancels a handshake that never comes', async () => {
    server = await startTestHubServer(createTestHub(), { limits: { handshakeTimeoutMs: 200, heartbeatIntervalMs: 25 } });
    const { connectionToken } = await rawNegotiate(server.url, alice);
    const client = await RawWebSocketClient.connect(`${server.url.replace('http', 'ws')}?id=${connectionToken}`, alice);
    clients.push(client);
    await client.closed();
    expect(client.messages).toEqual([{ error: 'Handshake was canceled.' }]);
  });

  it('forgets a negotiated connection whose transport never arrives', async () => {
    server = await startTestHubServer(createTestHub(), { limits: { disconnectTimeoutMs: 200, heartbeatIntervalMs: 25 } });
    const { connectionToken } = await rawNegotiate(server.url, alice);
    expect(server.hubServer.connectionCount).toBe(1);
    await expect.poll(() => server.hubServer.connectionCount).toBe(0);
    expect((await fetch(`${server.url}?id=${connectionToken}`, { headers: { authorization: `Bearer ${alice}` } })).status).toBe(404);
  });

  it('answers invocations beyond 100 per second with error completions', async () => {
    const { counts, metrics } = recordingMetrics();
    server = await startTestHubServer(createTestHub(), { metrics });
    const client = await raw();
    const batch = Array.from({ length: 150 }, (_, i) => `{"type":1,"invocationId":"${i}","target":"Echo","arguments":[${i}]}${RS}`).join('');
    client.send(batch);
    await client.until((c) => c.ofType(3).length === 150);
    const completions = client.ofType(3);
    expect(completions.filter((c) => 'result' in c)).toHaveLength(100);
    expect(completions.filter((c) => c['error'] === 'Rate limit exceeded: at most 100 invocations per second.')).toHaveLength(50);
    expect(counts.invocations.get('Echo:ok')).toBe(100);
    expect(counts.invocations.get('Echo:rate-limited')).toBe(50);
    expect(client.closeCode).toBeNull();
  });

  it('closes a WebSocket consumer that stops reading, with allowReconnect, and counts the drop', async () => {
    const { counts, metrics } = recordingMetrics();
    const hub = createTestHub();
    server = await startTestHubServer(hub, { metrics, limits: { maxSendBufferBytes: 64 * 1024 } });
    const client = await raw();
    (client.socket as unknown as { _socket: { pause(): void } })._socket.pause();
    const [session] = hub.sessions;
    const payload = JSON.stringify('x'.repeat(16 * 1024));
    // Push until the server gives up on the connection; the kernel's socket buffers absorb the first megabytes.
    for (let i = 0; i < 4000 && session!.connection.isOpen; i++) {
      session!.connection.send({ text: `{"type":1,"target":"big","arguments":[${payload}]}${RS}`, messageCount: 1, targets: ['big'] });
      if (i % 50 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    expect(session!.connection.isOpen).toBe(false);
    expect(counts.drops).toBe(1);
    (client.socket as unknown as { _socket: { resume(): void } })._socket.resume();
    await client.closed();
    expect(client.ofType(7)).toEqual([{ type: 7, error: 'The connection could not keep up with its messages.', allowReconnect: true }]);
  });

  it('bounds the long-polling queue of a client that stopped polling', async () => {
    const { counts, metrics } = recordingMetrics();
    const hub = createTestHub();
    server = await startTestHubServer(hub, { metrics, limits: { maxSendBufferBytes: 64 * 1024 } });
    const connection = buildClient(server.url, { transport: HttpTransportType.LongPolling, token: () => alice });
    await connection.start();
    const [session] = hub.sessions;
    const payload = JSON.stringify('y'.repeat(8 * 1024));
    for (let i = 0; i < 100 && session!.connection.isOpen; i++) {
      session!.connection.send({ text: `{"type":1,"target":"big","arguments":[${payload}]}${RS}`, messageCount: 1, targets: ['big'] });
    }
    expect(session!.connection.isOpen).toBe(false);
    expect(counts.drops).toBe(1);
    await expect.poll(() => connection.state).toBe(HubConnectionState.Disconnected);
  });

  it('lets one catch-up frame larger than the bound through, with the small frames behind it', async () => {
    const hub = createTestHub();
    server = await startTestHubServer(hub, { limits: { maxSendBufferBytes: 16 * 1024 } });
    const client = await raw();
    const [session] = hub.sessions;
    const bulk = `{"type":1,"target":"bulk","arguments":[${JSON.stringify('b'.repeat(2 * 1024 * 1024))}]}${RS}`;
    session!.connection.send({ text: bulk, messageCount: 1, targets: ['bulk'] });
    session!.connection.send({ text: `{"type":1,"target":"small","arguments":[1]}${RS}`, messageCount: 1, targets: ['small'] });
    await client.until((c) => c.messages.some((m) => m['target'] === 'small'));
    expect(session!.connection.isOpen).toBe(true);
  });

  it('reports connections, messages and invocations to the metrics', async () => {
    const { counts, metrics } = recordingMetrics();
    server = await startTestHubServer(createTestHub(), { metrics });
    const connection = buildClient(server.url, { transport: HttpTransportType.ServerSentEvents, token: () => alice });
    await connection.start();
    await connection.invoke('Push', 3);
    await expect(connection.invoke('Nope')).rejects.toThrow();
    await connection.stop();
    await expect.poll(() => counts.closed).toBe(1);
    expect(counts.opened).toBe(1);
    expect(counts.sent.get('tick')).toBe(3);
    expect(counts.invocations.get('Push:ok')).toBe(1);
    expect(counts.invocations.get('unknown:unknown-method')).toBe(1);
  });
});
