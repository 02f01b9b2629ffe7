import { afterEach, describe, expect, it } from 'vitest';
import { RS, RawWebSocketClient, rawNegotiate } from './support/rawClient.ts';
import { startTestHubServer, type RunningHubServer } from './support/startTestHubServer.ts';
import { testToken } from './support/testAuthenticator.ts';
import { createTestHub, type TestSession } from './support/testHub.ts';

const alice = testToken('alice');
const tick = (n: number) => ({ text: `{"type":1,"target":"tick","arguments":[${n}]}${RS}`, messageCount: 1, targets: ['tick'] });

/**
 * Stateful reconnect at the wire level (protocol doc §9): the server numbers what it sends,
 * keeps it until acked, and on a new socket sends Sequence first and replays.
 */
describe('stateful reconnect protocol', () => {
  let server: RunningHubServer;
  let hub: ReturnType<typeof createTestHub>;
  const clients: RawWebSocketClient[] = [];

  afterEach(async () => {
    for (const client of clients.splice(0)) client.socket.terminate();
    await server.stop();
  });

  async function start(limits = {}) {
    hub = createTestHub();
    server = await startTestHubServer(hub, { limits: { heartbeatIntervalMs: 25, disconnectTimeoutMs: 1_000, ...limits } });
  }

  async function connectStateful(): Promise<{ client: RawWebSocketClient; token: string; session: TestSession }> {
    const negotiated = await rawNegotiate(server.url, alice, 'negotiateVersion=1&useStatefulReconnect=true');
    expect(negotiated['useStatefulReconnect']).toBe(true);
    const token = negotiated['connectionToken'] as string;
    const client = await RawWebSocketClient.connect(`${server.url.replace('http', 'ws')}?id=${token}`, alice);
    clients.push(client);
    client.send(`{"protocol":"json","version":2}${RS}`);
    await client.until((c) => c.messages.length === 1);
    expect(client.frames[0]).toBe(`{}${RS}`);
    return { client, token, session: [...hub.sessions].at(-1)! };
  }

  async function reconnect(token: string): Promise<RawWebSocketClient> {
    const client = await RawWebSocketClient.connect(`${server.url.replace('http', 'ws')}?id=${token}`, alice);
    clients.push(client);
    return client;
  }

  it('replays unacknowledged messages after Sequence on the new socket, keeping the connection', async () => {
    await start();
    const { client, token, session } = await connectStateful();
    for (const n of [1, 2, 3]) session.connection.send(tick(n));
    await client.until((c) => c.ofType(1).length === 3);
    client.send(`{"type":8,"sequenceId":2}${RS}`); // the client processed 1 and 2
    // Let the server handle the Ack before the socket breaks.
    client.send(`{"type":1,"invocationId":"x","target":"Echo","arguments":[0]}${RS}`);
    await client.until((c) => c.ofType(3).length === 1);
    (client.socket as unknown as { _socket: { destroy(): void } })._socket.destroy();
    await client.closed();
    session.connection.send(tick(4)); // sent while no socket is attached

    const resumed = await reconnect(token);
    await resumed.until((c) => c.ofType(1).length === 2);
    // Server messages: tick1 (1), tick2 (2), tick3 (3), completion x (4), tick4 (5). Acked up to 2.
    expect(resumed.messages[0]).toEqual({ type: 9, sequenceId: 3 });
    const replayed = resumed.messages.slice(1).filter((m) => m['type'] === 1 || m['type'] === 3); // not Acks or Pings
    expect(replayed.map((m) => m['arguments'] ?? m['invocationId'])).toEqual([[3], 'x', [4]]);
    expect(session.connection.isOpen).toBe(true);
    expect(hub.events.connected).toBe(1);
  });

  it('drops client messages it already processed and acks them', async () => {
    await start();
    const { client, token } = await connectStateful();
    client.send(`{"type":1,"invocationId":"a","target":"Echo","arguments":["a"]}${RS}{"type":1,"invocationId":"b","target":"Echo","arguments":["b"]}${RS}`);
    await client.until((c) => c.ofType(3).length === 2);
    await client.until((c) => c.ofType(8).length >= 1);
    expect(client.ofType(8).at(-1)).toEqual({ type: 8, sequenceId: 2 });
    (client.socket as unknown as { _socket: { destroy(): void } })._socket.destroy();
    await client.closed();

    const resumed = await reconnect(token);
    // Messages before the client's Sequence are ignored; then b (2) is a duplicate, c (3) is new.
    resumed.send(`{"type":1,"invocationId":"ignored","target":"Echo","arguments":[0]}${RS}`);
    resumed.send(`{"type":9,"sequenceId":2}${RS}{"type":1,"invocationId":"b","target":"Echo","arguments":["b"]}${RS}{"type":1,"invocationId":"c","target":"Echo","arguments":["c"]}${RS}`);
    await resumed.until((c) => c.ofType(3).some((m) => m['invocationId'] === 'c'));
    await resumed.until((c) => c.ofType(8).some((m) => m['sequenceId'] === 3));
    expect(resumed.ofType(3).map((m) => m['invocationId'])).toEqual(['a', 'b', 'c']); // a, b replayed (unacked), c new
  });

  it('closes the connection when the client claims more than the server received', async () => {
    await start();
    const { client, token } = await connectStateful();
    (client.socket as unknown as { _socket: { destroy(): void } })._socket.destroy();
    await client.closed();
    const resumed = await reconnect(token);
    resumed.send(`{"type":9,"sequenceId":5}${RS}`);
    await resumed.closed();
    expect(resumed.ofType(7)).toEqual([{ type: 7, error: "Sequence ID greater than amount of messages we've received." }]);
  });

  it('disposes a dropped connection whose socket does not come back within the disconnect timeout', async () => {
    await start({ disconnectTimeoutMs: 200 });
    const { client, token } = await connectStateful();
    (client.socket as unknown as { _socket: { destroy(): void } })._socket.destroy();
    await client.closed();
    expect(server.hubServer.connectionCount).toBe(1);
    await expect.poll(() => server.hubServer.connectionCount).toBe(0);
    expect(hub.events.disconnected).toBe(1);
    const late = new RawWebSocketClient(new (await import('ws')).WebSocket(`${server.url.replace('http', 'ws')}?id=${token}`, { headers: { authorization: `Bearer ${alice}` } }));
    await expect(late.opened).rejects.toThrow('upgrade answered 404');
  });

  it('disposes at once on a clean close, and never keeps a connection that did not negotiate it', async () => {
    await start();
    const { client, token } = await connectStateful();
    client.socket.close(1000);
    await expect.poll(() => server.hubServer.connectionCount).toBe(0);
    const again = new RawWebSocketClient(new (await import('ws')).WebSocket(`${server.url.replace('http', 'ws')}?id=${token}`, { headers: { authorization: `Bearer ${alice}` } }));
    await expect(again.opened).rejects.toThrow('upgrade answered 404');

    // Version 2 without useStatefulReconnect in negotiate: a drop ends the connection.
    const plain = await RawWebSocketClient.handshaken(server.url, alice, 2);
    clients.push(plain);
    (plain.socket as unknown as { _socket: { destroy(): void } })._socket.destroy();
    await expect.poll(() => server.hubServer.connectionCount).toBe(0);
  });

  it('closes a connection whose unacknowledged messages exceed the buffer bound', async () => {
    await start({ statefulReconnectBufferBytes: 4 * 1024 });
    const { client, session } = await connectStateful();
    (client.socket as unknown as { _socket: { destroy(): void } })._socket.destroy();
    await client.closed();
    for (let n = 1; n <= 200 && session.connection.isOpen; n++) session.connection.send(tick(n));
    expect(session.connection.isOpen).toBe(false);
    expect(server.hubServer.connectionCount).toBe(0);
  });
});
