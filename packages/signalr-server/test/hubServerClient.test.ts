import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildClient, HubConnectionState, TRANSPORTS, type HubConnection } from './support/signalrClient.ts';
import { startTestHubServer, type RunningHubServer } from './support/startTestHubServer.ts';
import { testToken } from './support/testAuthenticator.ts';
import { createTestHub } from './support/testHub.ts';

describe.each(TRANSPORTS)('hub server with the official client over %s', (_name, transport) => {
  let server: RunningHubServer;
  let hub: ReturnType<typeof createTestHub>;
  let clients: HubConnection[];

  beforeEach(async () => {
    hub = createTestHub();
    server = await startTestHubServer(hub);
    clients = [];
  });

  afterEach(async () => {
    await Promise.all(clients.map((client) => client.stop()));
    await server.stop();
  });

  function client(userId = 'alice'): HubConnection {
    const connection = buildClient(server.url, { transport, token: () => testToken(userId) });
    clients.push(connection);
    return connection;
  }

  it('connects, invokes methods and gets results', async () => {
    const connection = client();
    await connection.start();
    expect(connection.state).toBe(HubConnectionState.Connected);
    expect(connection.connectionId).toMatch(/^[A-Za-z0-9_-]{22}$/);
    await expect(connection.invoke('Echo', { a: [1, 'two'] })).resolves.toEqual({ a: [1, 'two'] });
    await expect(connection.invoke('whoami')).resolves.toBe('alice');
    await expect(connection.invoke('Nothing')).resolves.toBeUndefined();
  });

  it('answers an unknown method with an error completion and keeps the connection', async () => {
    const connection = client();
    await connection.start();
    await expect(connection.invoke('NoSuchMethod', 1)).rejects.toThrow("Unknown hub method 'NoSuchMethod'.");
    await expect(connection.invoke('Fail')).rejects.toThrow('failed on purpose');
    await expect(connection.invoke('Crash')).rejects.toThrow("An unexpected error occurred invoking 'Crash' on the server.");
    await expect(connection.invoke('Echo', 7)).resolves.toBe(7);
  });

  it('delivers server pushes in order before the completion', async () => {
    const connection = client();
    const ticks: number[] = [];
    connection.on('tick', (n: number) => ticks.push(n));
    await connection.start();
    await expect(connection.invoke('Push', 50)).resolves.toBe(50);
    expect(ticks).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
  });

  it('fires and forgets invocations without an id', async () => {
    const connection = client();
    const ticks: number[] = [];
    connection.on('tick', (n: number) => ticks.push(n));
    await connection.start();
    await connection.send('Push', 3);
    await expect(connection.invoke('Echo', 'after')).resolves.toBe('after');
    expect(ticks).toEqual([1, 2, 3]);
  });

  it('closes the connection with the server error and disposes it', async () => {
    const connection = client();
    await connection.start();
    const closed = new Promise<Error | undefined>((resolve) => connection.onclose(resolve));
    await connection.invoke('CloseMe', 'bye now', false);
    const error = await closed;
    expect(error?.message).toBe('Server returned an error on close: bye now');
    await expect.poll(() => server.hubServer.connectionCount).toBe(0);
    expect(hub.events).toEqual({ connected: 1, disconnected: 1 });
  });

  it('forgets the connection when the client stops', async () => {
    const connection = client();
    await connection.start();
    await connection.stop();
    await expect.poll(() => server.hubServer.connectionCount).toBe(0);
    expect(hub.events.disconnected).toBe(1);
  });

  it('rejects a client without a valid token', async () => {
    const connection = buildClient(server.url, { transport, token: () => 'garbage' });
    await expect(connection.start()).rejects.toThrow(/401/);
    expect(server.hubServer.connectionCount).toBe(0);
  });
});
