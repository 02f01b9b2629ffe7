import { request as httpRequest } from 'node:http';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { RS, RawWebSocketClient, rawNegotiate } from './support/rawClient.ts';
import { startTestHubServer, type RunningHubServer } from './support/startTestHubServer.ts';
import { testToken } from './support/testAuthenticator.ts';
import { createTestHub } from './support/testHub.ts';

const alice = testToken('alice');
const auth = { authorization: `Bearer ${alice}` };
const BASE64URL_16_BYTES = /^[A-Za-z0-9_-]{22}$/;

describe('hub HTTP endpoints', () => {
  let server: RunningHubServer;

  beforeEach(async () => {
    server = await startTestHubServer(createTestHub(), {
      limits: { pollTimeoutMs: 300, disconnectTimeoutMs: 400, heartbeatIntervalMs: 50 },
    });
  });
  afterEach(async () => {
    await server.stop();
  });

  const at = (token: string, query = '') => `${server.url}?id=${encodeURIComponent(token)}${query}`;

  describe('negotiate', () => {
    it('answers version 1 with a public id, a different secret token and WebSockets first', async () => {
      const body = await rawNegotiate(server.url, alice);
      expect(body).toEqual({
        negotiateVersion: 1,
        connectionId: expect.stringMatching(BASE64URL_16_BYTES),
        connectionToken: expect.stringMatching(BASE64URL_16_BYTES),
        availableTransports: [
          { transport: 'WebSockets', transferFormats: ['Text', 'Binary'] },
          { transport: 'ServerSentEvents', transferFormats: ['Text'] },
          { transport: 'LongPolling', transferFormats: ['Text', 'Binary'] },
        ],
      });
      expect(body['connectionToken']).not.toBe(body['connectionId']);
    });

    it('offers stateful reconnect only when asked, caps the version, and speaks version 0', async () => {
      expect(await rawNegotiate(server.url, alice, 'negotiateVersion=1&useStatefulReconnect=true')).toMatchObject({ useStatefulReconnect: true });
      expect(await rawNegotiate(server.url, alice, 'negotiateVersion=7')).toMatchObject({ negotiateVersion: 1 });
      const v0 = await rawNegotiate(server.url, alice, '');
      expect(v0['negotiateVersion']).toBe(0);
      expect(v0).not.toHaveProperty('connectionToken');
      expect(v0).not.toHaveProperty('useStatefulReconnect');
      // Version 0 clients use the connection id as the token.
      expect((await fetch(at(v0['connectionId']), { headers: auth })).status).toBe(200);
      expect(await rawNegotiate(server.url, alice, 'negotiateVersion=abc')).toEqual({ error: 'The client requested a non-integer protocol version.' });
    });

    it('only accepts POST', async () => {
      expect((await fetch(`${server.url}/negotiate`, { headers: auth })).status).toBe(405);
    });
  });

  describe('authentication on every request', () => {
    it('answers 401 with WWW-Authenticate: Bearer without a valid token, on every route', async () => {
      const { connectionToken } = await rawNegotiate(server.url, alice);
      const cases: [string, string, RequestInit][] = [
        ['negotiate', `${server.url}/negotiate?negotiateVersion=1`, { method: 'POST' }],
        ['poll', at(connectionToken), {}],
        ['sse', at(connectionToken), { headers: { accept: 'text/event-stream' } }],
        ['send', at(connectionToken), { method: 'POST', body: 'x' }],
        ['delete', at(connectionToken), { method: 'DELETE' }],
      ];
      for (const [, url, init] of cases) {
        const attempts: Record<string, string>[] = [{}, { authorization: 'Bearer nonsense' }, { authorization: `Basic ${alice}` }];
        for (const headers of attempts) {
          const response = await fetch(url, { ...init, headers: { ...(init.headers as Record<string, string>), ...headers } });
          expect(response.status).toBe(401);
          expect(response.headers.get('www-authenticate')).toBe('Bearer');
        }
      }
      const upgrade = new WebSocket(`${server.url.replace('http', 'ws')}?id=${connectionToken}`);
      const status = await new Promise<number>((resolve) => upgrade.once('unexpected-response', (_req, res) => resolve(res.statusCode!)));
      expect(status).toBe(401);
    });

    it('accepts the token from the access_token query parameter on every route', async () => {
      const q = `&access_token=${encodeURIComponent(alice)}`;
      const negotiated = await fetch(`${server.url}/negotiate?negotiateVersion=1${q}`, { method: 'POST' });
      const { connectionToken } = (await negotiated.json()) as { connectionToken: string };
      expect((await fetch(at(connectionToken, q))).status).toBe(200);
      expect((await fetch(at(connectionToken, q), { method: 'POST', body: `{"protocol":"json","version":1}${RS}` })).status).toBe(200);
      expect((await fetch(at(connectionToken, q), { method: 'DELETE' })).status).toBe(202);
      const ws = await RawWebSocketClient.connect(`${server.url.replace('http', 'ws')}?access_token=${encodeURIComponent(alice)}`, null);
      ws.socket.close();
    });

    it('refuses requests of another user on a connection (403)', async () => {
      const { connectionToken } = await rawNegotiate(server.url, alice);
      const bob = { authorization: `Bearer ${testToken('bob')}` };
      expect((await fetch(at(connectionToken), { headers: bob })).status).toBe(403);
      expect((await fetch(at(connectionToken), { headers: auth })).status).toBe(200);
      expect((await fetch(at(connectionToken), { method: 'POST', headers: bob, body: 'x' })).status).toBe(403);
      expect((await fetch(at(connectionToken), { method: 'DELETE', headers: bob })).status).toBe(403);
    });
  });

  describe('status codes', () => {
    it('follows the ASP.NET dispatcher: 400 without id, 404 unknown id, 409 second stream, 400 transport change, 405 POST on WebSockets, 400 DELETE on non-long-polling', async () => {
      expect((await fetch(server.url, { headers: auth })).status).toBe(400);
      expect(await (await fetch(server.url, { method: 'POST', headers: auth, body: 'x' })).text()).toBe('Connection ID required');
      expect((await fetch(at('unknown'), { headers: auth })).status).toBe(404);
      expect((await fetch(at('unknown'), { method: 'DELETE', headers: auth })).status).toBe(404);
      expect((await fetch(server.url, { method: 'PUT', headers: auth })).status).toBe(405);

      const sse = await rawNegotiate(server.url, alice);
      const stream = await fetch(at(sse['connectionToken']), { headers: { ...auth, accept: 'text/event-stream' } });
      expect(stream.status).toBe(200);
      expect((await fetch(at(sse['connectionToken']), { headers: { ...auth, accept: 'text/event-stream' } })).status).toBe(409);
      const change = await fetch(at(sse['connectionToken']), { headers: auth });
      expect([change.status, await change.text()]).toEqual([400, 'Cannot change transports mid-connection']);
      expect((await fetch(at(sse['connectionToken']), { method: 'DELETE', headers: auth })).status).toBe(400);
      await stream.body?.cancel();

      const ws = await RawWebSocketClient.handshaken(server.url, alice);
      const wsToken = new URL(ws.socket.url).searchParams.get('id')!;
      expect((await fetch(at(wsToken), { method: 'POST', headers: auth, body: `{"type":6}${RS}` })).status).toBe(405);
      const second = new WebSocket(`${server.url.replace('http', 'ws')}?id=${wsToken}`, { headers: auth });
      expect(await new Promise((resolve) => second.once('unexpected-response', (_req, res) => resolve(res.statusCode)))).toBe(409);
      ws.socket.close();
    });

    it('leaves other upgrade paths to their owners', async () => {
      let otherUpgrades = 0;
      server.http.on('upgrade', (req, socket) => {
        if (req.url === '/elsewhere') {
          otherUpgrades++;
          socket.end('HTTP/1.1 418 I am a teapot\r\nConnection: close\r\n\r\n');
        }
      });
      const ws = new WebSocket(`${server.origin.replace('http', 'ws')}/elsewhere`, { headers: auth });
      expect(await new Promise((resolve) => ws.once('unexpected-response', (_req, res) => resolve(res.statusCode)))).toBe(418);
      expect(otherUpgrades).toBe(1);
      expect(server.hubServer.connectionCount).toBe(0);
    });
  });

  describe('CORS', () => {
    it('echoes the origin with credentials on hub responses and answers preflights', async () => {
      const origin = 'https://app.example';
      const negotiate = await fetch(`${server.url}/negotiate?negotiateVersion=1`, { method: 'POST', headers: { ...auth, origin } });
      expect(negotiate.headers.get('access-control-allow-origin')).toBe(origin);
      expect(negotiate.headers.get('access-control-allow-credentials')).toBe('true');
      const preflight = await fetch(`${server.url}/negotiate`, {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, x-requested-with, x-signalr-user-agent' },
      });
      expect(preflight.status).toBe(204);
      expect(preflight.headers.get('access-control-allow-origin')).toBe(origin);
      expect(preflight.headers.get('access-control-allow-methods')).toBe('GET, POST, DELETE, OPTIONS');
      expect(preflight.headers.get('access-control-allow-headers')).toMatch(/authorization/);
    });

    it('sends no CORS headers to an origin that is not allowed, and refuses its WebSockets', async () => {
      await server.stop();
      server = await startTestHubServer(createTestHub(), { allowOrigin: (o) => o === 'https://good.example' });
      const bad = await fetch(`${server.url}/negotiate?negotiateVersion=1`, { method: 'POST', headers: { ...auth, origin: 'https://evil.example' } });
      expect(bad.headers.get('access-control-allow-origin')).toBeNull();
      const ws = new WebSocket(`${server.url.replace('http', 'ws')}`, { headers: { ...auth, origin: 'https://evil.example' } });
      expect(await new Promise((resolve) => ws.once('unexpected-response', (_req, res) => resolve(res.statusCode)))).toBe(403);
    });
  });

  describe('long polling', () => {
    async function started(): Promise<string> {
      const { connectionToken } = await rawNegotiate(server.url, alice);
      const first = await fetch(at(connectionToken, '&_=1'), { headers: auth });
      expect([first.status, await first.text()]).toEqual([200, '']);
      await fetch(at(connectionToken), { method: 'POST', headers: auth, body: `{"protocol":"json","version":1}${RS}` });
      expect(await (await fetch(at(connectionToken), { headers: auth })).text()).toBe(`{}${RS}`);
      return connectionToken;
    }

    it('holds a poll until data arrives and returns every queued message in one body', async () => {
      const token = await started();
      const poll = fetch(at(token), { headers: auth });
      await fetch(at(token), { method: 'POST', headers: auth, body: `{"type":1,"invocationId":"1","target":"Push","arguments":[3]}${RS}` });
      const response = await poll;
      expect(response.status).toBe(200);
      expect(response.headers.get('cache-control')).toBe('no-cache, no-store');
      expect(await response.text()).toBe(
        ['1', '2', '3'].map((n) => `{"type":1,"target":"tick","arguments":[${n}]}${RS}`).join('') + `{"type":3,"invocationId":"1","result":3}${RS}`,
      );
    });

    it('ends an idle poll with 200 and an empty body after the poll timeout, and sends no pings', async () => {
      const token = await started();
      const response = await fetch(at(token), { headers: auth });
      expect([response.status, await response.text()]).toEqual([200, '']);
    });

    it('answers an older poll with 204 when a newer one arrives', async () => {
      const token = await started();
      const older = fetch(at(token), { headers: auth });
      await new Promise((resolve) => setTimeout(resolve, 20));
      const newer = fetch(at(token), { headers: auth });
      expect((await older).status).toBe(204);
      expect((await newer).status).toBe(200);
    });

    it('answers DELETE with 202, ends the pending poll with 204 and forgets the connection', async () => {
      const token = await started();
      const pending = fetch(at(token), { headers: auth });
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect((await fetch(at(token), { method: 'DELETE', headers: auth })).status).toBe(202);
      expect((await pending).status).toBe(204);
      expect((await fetch(at(token), { headers: auth })).status).toBe(404);
      expect(server.hubServer.connectionCount).toBe(0);
    });

    it('disposes a connection whose client stopped polling', async () => {
      await started();
      await expect.poll(() => server.hubServer.connectionCount, { timeout: 5_000 }).toBe(0);
    });
  });

  describe('server-sent events', () => {
    it('flushes headers and a comment at once, then sends each chunk as one data event', async () => {
      const { connectionToken } = await rawNegotiate(server.url, alice);
      const chunks: string[] = [];
      const opened = new Promise<void>((resolve) => {
        const req = httpRequest(at(connectionToken), { headers: { ...auth, accept: 'text/event-stream' } }, (res) => {
          expect(res.statusCode).toBe(200);
          expect(res.headers['content-type']).toBe('text/event-stream');
          expect(res.headers['cache-control']).toBe('no-cache, no-store');
          expect(res.headers['x-accel-buffering']).toBe('no');
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            chunks.push(chunk);
            resolve();
          });
        });
        req.end();
      });
      await opened;
      expect(chunks.join('')).toBe(':\r\n');
      await fetch(at(connectionToken), { method: 'POST', headers: auth, body: `{"protocol":"json","version":1}${RS}{"type":1,"invocationId":"7","target":"Push","arguments":[2]}${RS}` });
      await expect.poll(() => chunks.join('')).toContain('"result":2');
      expect(chunks.join('')).toBe(
        `:\r\ndata: {}${RS}\r\n\r\n` +
          `data: {"type":1,"target":"tick","arguments":[1]}${RS}\r\n\r\n` +
          `data: {"type":1,"target":"tick","arguments":[2]}${RS}\r\n\r\n` +
          `data: {"type":3,"invocationId":"7","result":2}${RS}\r\n\r\n`,
      );
    });
  });
});
