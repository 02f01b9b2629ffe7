import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/testServer.ts';
import { RS, RawWebSocketClient, rawNegotiate } from '../../packages/signalr-server/test/support/rawClient.ts';

describe('hub: one user cannot fill a node with negotiated connections', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ MAX_CONNECTIONS_PER_USER: '16' });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('keeps at most MAX_CONNECTIONS_PER_USER (16 here) unused negotiations per user: the oldest go, the newest and other users still connect', async () => {
    const hub = `${t.url}/hubs/status`;
    const mallory = await t.token('mallory');
    const alice = await t.token('alice');
    const aliceNegotiated = await rawNegotiate(hub, alice);
    const tokens: string[] = [];
    for (let i = 0; i < 200; i++) tokens.push((await rawNegotiate(hub, mallory))['connectionToken'] as string);
    expect(t.server.signalr.connectionCount).toBeLessThanOrEqual(17);

    const connect = async (token: string, user: string) => {
      const client = await RawWebSocketClient.connect(`${hub.replace(/^http/, 'ws')}?id=${token}`, user).catch((error: Error) => error);
      if (client instanceof Error) return client.message;
      client.send(`{"protocol":"json","version":1}${RS}`);
      await client.until((c) => c.messages.length >= 1);
      client.socket.terminate();
      return 'connected';
    };
    expect(await connect(tokens[0]!, mallory)).toBe('upgrade answered 404');
    expect(await connect(tokens[199]!, mallory)).toBe('connected');
    expect(await connect(aliceNegotiated['connectionToken'] as string, alice)).toBe('connected');
  });
});
