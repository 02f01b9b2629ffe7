import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RS, RawWebSocketClient, rawNegotiate } from './support/rawClient.ts';
import { startTestHubServer, type RunningHubServer } from './support/startTestHubServer.ts';
import { testToken } from './support/testAuthenticator.ts';
import { createTestHub } from './support/testHub.ts';

const alice = testToken('alice');
const MAX_MESSAGE = 32 * 1024;

describe('malformed input never takes the server down', () => {
  let server: RunningHubServer;
  const hub = createTestHub();
  const open: RawWebSocketClient[] = [];

  beforeAll(async () => {
    server = await startTestHubServer(hub, { limits: { maxReceiveBytes: 256 * 1024 } });
  });
  afterAll(async () => {
    for (const client of open) client.socket.terminate();
    await server.stop();
  });

  async function handshaken(): Promise<RawWebSocketClient> {
    const client = await RawWebSocketClient.handshaken(server.url, alice);
    open.push(client);
    expect(client.frames[0]).toBe(`{}${RS}`);
    return client;
  }

  /** After each bad input, a new connection still works end to end. */
  async function serverStillServes(): Promise<void> {
    const client = await handshaken();
    client.send(`{"type":1,"invocationId":"ok","target":"Echo","arguments":["alive"]}${RS}`);
    await client.until((c) => c.ofType(3).length === 1);
    expect(client.ofType(3)[0]).toEqual({ type: 3, invocationId: 'ok', result: 'alive' });
    client.socket.close();
    await client.closed();
  }

  async function expectClose(client: RawWebSocketClient, error: string | RegExp): Promise<void> {
    expect(await client.closed()).toBe(1000);
    const closes = client.ofType(7);
    expect(closes).toHaveLength(1);
    expect(closes[0]!['error']).toMatch(error);
    expect(closes[0]).not.toHaveProperty('allowReconnect');
  }

  it('answers a garbage handshake with a handshake error, then closes', async () => {
    const negotiated = await rawNegotiate(server.url, alice);
    const client = await RawWebSocketClient.connect(`${server.url.replace('http', 'ws')}?id=${negotiated['connectionToken']}`, alice);
    open.push(client);
    client.send(`\u0000\u00ff garbage${RS}`);
    expect(await client.closed()).toBe(1000);
    expect(client.messages).toEqual([{ error: 'The handshake request is not valid JSON.' }]);
    await serverStillServes();
  });

  it.each([
    ['an unsupported protocol', `{"protocol":"messagepack","version":1}`, "The protocol 'messagepack' is not supported."],
    ['an unsupported version', `{"protocol":"json","version":3}`, "The server does not support version 3 of the 'json' protocol."],
    ['a hub message instead of a handshake', `{"type":6}`, /needs a string "protocol"/],
  ])('rejects %s in the handshake', async (_what, handshake, error) => {
    const negotiated = await rawNegotiate(server.url, alice);
    const client = await RawWebSocketClient.connect(`${server.url.replace('http', 'ws')}?id=${negotiated['connectionToken']}`, alice);
    open.push(client);
    client.send(handshake + RS);
    await client.closed();
    expect(client.messages).toHaveLength(1);
    expect(client.messages[0]!['error']).toMatch(error);
    expect(client.messages[0]).not.toHaveProperty('type');
  });

  it.each([
    ['garbage', 'this is not json', 'Invalid JSON in hub message.'],
    ['an array', '[1,2,3]', 'A hub message must be a JSON object.'],
    ['an unknown type', '{"type":42}', 'Unknown hub message type: 42.'],
    ['a missing type', '{"target":"Echo"}', 'Unknown hub message type: missing.'],
    ['a non-string target', '{"type":1,"target":5,"arguments":[]}', "'target' must be a string."],
    ['non-array arguments', '{"type":1,"target":"Echo","arguments":{}}', "'arguments' must be an array."],
    ['a numeric invocation id', '{"type":1,"invocationId":7,"target":"Echo","arguments":[]}', "'invocationId' must be a string."],
    ['a bad sequence id', '{"type":8,"sequenceId":"x"}', "'sequenceId' must be a non-negative integer."],
    ['an empty message', '', 'Invalid JSON in hub message.'],
  ])('closes with an error on %s after the handshake', async (_what, message, error) => {
    const client = await handshaken();
    client.send(message + RS);
    await expectClose(client, error);
    await serverStillServes();
  });

  it('closes with an error on an oversize message', async () => {
    const client = await handshaken();
    client.send(`{"type":1,"target":"Echo","arguments":["${'x'.repeat(MAX_MESSAGE)}"]}${RS}`);
    await expectClose(client, `Message exceeds the maximum size of ${MAX_MESSAGE} bytes.`);
    await serverStillServes();
  });

  it('closes with an error when a half message grows past the limit without a separator', async () => {
    const client = await handshaken();
    client.send(`{"type":1,"target":"Echo","arguments":["${'y'.repeat(20_000)}`);
    client.send('z'.repeat(20_000));
    await expectClose(client, `Message exceeds the maximum size of ${MAX_MESSAGE} bytes.`);
  });

  it('joins a message split across frames and splits several messages in one frame', async () => {
    const client = await handshaken();
    const first = `{"type":1,"invocationId":"a","target":"Echo","arguments":["é-split"]}`;
    client.send(first.slice(0, 20));
    client.send(first.slice(20) + RS + `{"type":1,"invocationId":"b","target":"Echo","arguments":[2]}${RS}{"type":6}${RS}{"type":1,"invocationId":"c","target":"Echo","arguments":[3]}${RS}`);
    await client.until((c) => c.ofType(3).length === 3);
    expect(client.ofType(3)).toEqual([
      { type: 3, invocationId: 'a', result: 'é-split' },
      { type: 3, invocationId: 'b', result: 2 },
      { type: 3, invocationId: 'c', result: 3 },
    ]);
    expect(client.closeCode).toBeNull();
  });

  it('closes with an error on a binary frame', async () => {
    const client = await handshaken();
    client.send(Buffer.from([0x93, 0x01, 0x80]));
    await expectClose(client, 'Binary messages are not supported by the json protocol.');
  });

  it('answers a stream invocation and client upload streams with error completions', async () => {
    const client = await handshaken();
    client.send(`{"type":4,"invocationId":"s","target":"Echo","arguments":[1]}${RS}`);
    client.send(`{"type":1,"invocationId":"u","target":"Echo","arguments":[],"streamIds":["9"]}${RS}{"type":2,"invocationId":"9","item":1}${RS}{"type":3,"invocationId":"9"}${RS}`);
    client.send(`{"type":5,"invocationId":"s"}${RS}{"type":1,"invocationId":"after","target":"Echo","arguments":[1],"headers":{"k":"v"}}${RS}`);
    await client.until((c) => c.ofType(3).length === 3);
    expect(client.ofType(3)).toEqual([
      { type: 3, invocationId: 's', error: "The client attempted to invoke the non-streaming 'Echo' method with a streaming invocation." },
      { type: 3, invocationId: 'u', error: "Client-to-server streaming is not supported by 'Echo'." },
      { type: 3, invocationId: 'after', result: 1 },
    ]);
  });

  it('closes a WebSocket frame larger than maxReceiveBytes at the transport level (1009)', async () => {
    const client = await handshaken();
    const sessions = hub.sessions.size;
    client.send('q'.repeat(300 * 1024));
    expect(await client.closed()).toBe(1009);
    await expect.poll(() => hub.sessions.size).toBe(sessions - 1);
    await serverStillServes();
  });

  describe('over HTTP (SSE and long polling sends)', () => {
    async function longPolling(): Promise<{ token: string; poll(): Promise<Response>; post(body: string | Buffer): Promise<Response> }> {
      const { connectionToken: token } = await rawNegotiate(server.url, alice);
      const url = `${server.url}?id=${token}`;
      const headers = { authorization: `Bearer ${alice}` };
      const first = await fetch(url, { headers });
      expect(first.status).toBe(200);
      return {
        token,
        poll: () => fetch(url, { headers }),
        post: (body) => fetch(url, { method: 'POST', headers, body }),
      };
    }

    it('delivers a Close with an error for garbage POSTed to a long-polling connection', async () => {
      const lp = await longPolling();
      expect((await lp.post(`{"protocol":"json","version":1}${RS}`)).status).toBe(200);
      expect(await (await lp.poll()).text()).toBe(`{}${RS}`);
      expect((await lp.post(`{{{{${RS}`)).status).toBe(200);
      expect(await (await lp.poll()).text()).toBe(`{"type":7,"error":"Invalid JSON in hub message."}${RS}`);
      expect((await lp.poll()).status).toBe(204);
      expect((await lp.post(`{"type":6}${RS}`)).status).toBe(404);
    });

    it('joins half messages across POST bodies', async () => {
      const lp = await longPolling();
      await lp.post(`{"protocol":"json","ver`);
      await lp.post(`sion":1}${RS}{"type":1,"invocationId":"1","target":"Ec`);
      expect(await (await lp.poll()).text()).toBe(`{}${RS}`);
      await lp.post(`ho","arguments":[true]}${RS}`);
      expect(await (await lp.poll()).text()).toBe(`{"type":3,"invocationId":"1","result":true}${RS}`);
    });

    it('answers 413 to an oversize body and closes the connection with an error', async () => {
      const lp = await longPolling();
      await lp.post(`{"protocol":"json","version":1}${RS}`);
      expect(await (await lp.poll()).text()).toBe(`{}${RS}`);
      const response = await lp.post(Buffer.alloc(300 * 1024, 0x61));
      expect(response.status).toBe(413);
      expect(await (await lp.poll()).text()).toMatch(/^\{"type":7,"error":"Message exceeds the maximum size of 262144 bytes\."\}/);
      await serverStillServes();
    });
  });
});
