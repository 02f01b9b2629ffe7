import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { EventStore, ReadStreamOptions, RecordedEvent } from '../../src/store/eventStore.ts';
import { createSqliteEventStore } from '../../src/store/sqlite/createSqliteEventStore.ts';
import { makeTempDir } from '../support/tempDir.ts';
import { eventually, startTestServer, status, type TestServer } from '../support/testServer.ts';
import { RS, RawWebSocketClient } from '../../packages/signalr-server/test/support/rawClient.ts';

/** The embedded store, with every stream read held back a while: the catch-up window a client can vanish in. */
function slowReads(store: EventStore, delayMs: number): EventStore {
  return {
    ...store,
    appendToStreams: (appends) => store.appendToStreams(appends),
    readStream(stream: string, options?: ReadStreamOptions): AsyncIterable<RecordedEvent> {
      return (async function* () {
        await new Promise((resolve) => setTimeout(resolve, delayMs));
        yield* store.readStream(stream, options);
      })();
    },
    streamRevision: (stream) => store.streamRevision(stream),
    readAll: (options) => store.readAll(options),
    subscribeToAll: (options) => store.subscribeToAll(options),
    headPosition: () => store.headPosition(),
    close: () => store.close(),
  };
}

/** Writes a raw HTTP request and destroys the socket after `afterMs` (0: as soon as it is written). */
function abortedRequest(port: number, request: string, afterMs: number): Promise<void> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1', () => {
      socket.write(request);
      setTimeout(() => {
        socket.destroy();
        resolve();
      }, afterMs);
    });
    socket.on('error', () => resolve());
  });
}

async function gauge(t: TestServer, name: string, labels = ''): Promise<number> {
  const text = await (await fetch(`${t.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels} `));
  return line === undefined ? 0 : Number(line.split(' ')[1]);
}

describe('a client that vanishes at any moment leaves nothing behind', () => {
  let t: TestServer;
  let dir: ReturnType<typeof makeTempDir> | undefined;
  afterEach(async () => {
    await t?.close();
    dir?.remove();
  });

  async function start(readDelayMs: number): Promise<string> {
    dir = makeTempDir('slow-store');
    const store = slowReads(createSqliteEventStore({ file: `${dir.path}/events.sqlite`, sync: 'normal' }), readDelayMs);
    t = await startTestServer({}, { store, tuning: { sseHeartbeatMs: 60_000 } });
    await t.ingest({ messages: [status({ job_id: 'gone-1' }), status({ job_id: 'gone-1' })] });
    return t.token('alice');
  }

  it('SSE: 20 requests dropped before, during and after the catch-up read release every subscription and connection', async () => {
    const alice = await start(40);
    const request = (path: string) =>
      `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\nAuthorization: Bearer ${alice}\r\n\r\n`;
    const drops: Promise<void>[] = [];
    for (let i = 0; i < 20; i++) {
      // 0 ms: gone during auth; 10-30 ms: during the catch-up read; 60 ms: after the stream opened.
      const afterMs = [0, 10, 20, 30, 60][i % 5]!;
      drops.push(abortedRequest(t.server.port, request(i % 2 ? '/jobs/gone-1/events' : '/jobs/gone-1/events?after=1'), afterMs));
    }
    await Promise.all(drops);
    // Released as each socket closes; polled, because the last close may still be on its way.
    const released = async () =>
      (await gauge(t, 'statuscast_live_subscriptions')) === 0 && (await gauge(t, 'statuscast_connections', '{transport="sse"}')) === 0;
    await eventually(async () => (await released()) || undefined, 5_000, 'subscriptions and connections to be released').catch(() => undefined);
    expect(await gauge(t, 'statuscast_live_subscriptions')).toBe(0);
    expect(await gauge(t, 'statuscast_connections', '{transport="sse"}')).toBe(0);
    expect(t.server.liveFeed.subscriberCount).toBe(0);
  });

  it('SignalR: connections dropped during Subscribe\'s catch-up read release their subscriptions', async () => {
    const alice = await start(60);
    const hub = `${t.url}/hubs/status`;
    const clients: RawWebSocketClient[] = [];
    for (let i = 0; i < 10; i++) {
      const client = await RawWebSocketClient.handshaken(hub, alice);
      client.send(`${JSON.stringify({ type: 1, invocationId: 's', target: 'Subscribe', arguments: ['gone-1', null] })}${RS}`);
      clients.push(client);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
    for (const client of clients) client.socket.terminate();
    await new Promise((resolve) => setTimeout(resolve, 300));
    await eventually(async () => (await gauge(t, 'statuscast_live_subscriptions')) === 0 || undefined, 5_000, 'subscriptions released');
    expect(t.server.signalr.connectionCount).toBe(0);
  });
});
