import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSse, type SseConnection } from '../support/sseReader.ts';
import { eventually, startTestServer, status, type TestServer } from '../support/testServer.ts';
import { RS, RawWebSocketClient } from '../../packages/signalr-server/test/support/rawClient.ts';

const invoke = (id: string, target: string, ...args: unknown[]) => `${JSON.stringify({ type: 1, invocationId: id, target, arguments: args })}${RS}`;

describe('per-user connection and subscription caps', () => {
  let t: TestServer;
  let alice: string;
  let bob: string;
  beforeAll(async () => {
    t = await startTestServer({ MAX_CONNECTIONS_PER_USER: '3', MAX_SUBSCRIPTIONS_PER_USER: '4' });
    await t.ingest({ messages: ['q1', 'q2', 'q3', 'q4', 'q5'].map((job) => status({ job_id: job, user_id: 'alice' })) });
    alice = await t.token('alice');
    bob = await t.token('bob');
  });
  afterAll(async () => {
    await t?.close();
  });

  it('refuses a fourth SSE stream of one user with 429 naming the limit; other users are unaffected', async () => {
    const open: SseConnection[] = [];
    try {
      for (let i = 0; i < 3; i++) {
        const sse = await openSse(`${t.url}/jobs/q1/events`, { authorization: `Bearer ${alice}` });
        expect(sse.status).toBe(200);
        open.push(sse);
      }
      const refused = await openSse(`${t.url}/events`, { authorization: `Bearer ${alice}` });
      expect(refused.status).toBe(429);
      expect(refused.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(JSON.parse(await refused.text())).toMatchObject({ status: 429, detail: expect.stringContaining('3 open connections') });
      const other = await openSse(`${t.url}/events`, { authorization: `Bearer ${bob}` });
      expect(other.status).toBe(200);
      open.push(other);
    } finally {
      for (const sse of open) sse.close();
    }
    await eventually(() => t.server.liveFeed.subscriberCount === 0 || undefined, 5_000, 'streams to close');
    // Closed streams give their places back.
    const again = await openSse(`${t.url}/jobs/q1/events`, { authorization: `Bearer ${alice}` });
    expect(again.status).toBe(200);
    again.close();
  });

  it('closes a hub connection past the limit with a reason, and counts SSE and hub connections together', async () => {
    const sse = await openSse(`${t.url}/jobs/q1/events`, { authorization: `Bearer ${alice}` });
    const clients: RawWebSocketClient[] = [];
    try {
      for (let i = 0; i < 2; i++) clients.push(await RawWebSocketClient.handshaken(`${t.url}/hubs/status`, alice));
      const fourth = await RawWebSocketClient.handshaken(`${t.url}/hubs/status`, alice);
      clients.push(fourth);
      await fourth.closed();
      expect(fourth.ofType(7)).toEqual([
        { type: 7, error: 'Too many connections: one user may hold 3 on this server; close one first.' },
      ]);
      expect(clients[0]!.closeCode).toBeNull();
    } finally {
      sse.close();
      for (const client of clients) client.socket.terminate();
    }
  });

  it('refuses a subscription past the per-user bound with an error Completion, across connections', async () => {
    await eventually(() => t.server.signalr.connectionCount === 0 || undefined, 5_000, 'earlier connections to end');
    const first = await RawWebSocketClient.handshaken(`${t.url}/hubs/status`, alice);
    const second = await RawWebSocketClient.handshaken(`${t.url}/hubs/status`, alice);
    try {
      first.send(invoke('1', 'Subscribe', 'q1', null) + invoke('2', 'Subscribe', 'q2', null) + invoke('3', 'SubscribeFeed', null));
      await first.until((c) => c.ofType(3).length === 3);
      second.send(invoke('4', 'Subscribe', 'q4', null) + invoke('5', 'Subscribe', 'q5', null));
      await second.until((c) => c.ofType(3).length === 2);
      expect(first.ofType(3).map((m) => m['error'])).toEqual([undefined, undefined, undefined]);
      expect(second.ofType(3).map((m) => m['error'])).toEqual([undefined, 'Subscription limit reached: at most 4 for one user on this server.']);
      // Resubscribing the same job replaces its subscription instead of taking another place.
      first.send(invoke('6', 'Subscribe', 'q1', 1));
      await first.until((c) => c.ofType(3).length === 4);
      expect(first.ofType(3)[3]!['error']).toBeUndefined();
      // Unsubscribing gives a place back.
      first.send(invoke('7', 'Unsubscribe', 'q2'));
      second.send(invoke('8', 'Subscribe', 'q5', null));
      await second.until((c) => c.ofType(3).length === 3);
      expect(second.ofType(3)[2]!['error']).toBeUndefined();
    } finally {
      first.socket.terminate();
      second.socket.terminate();
    }
  });
});
