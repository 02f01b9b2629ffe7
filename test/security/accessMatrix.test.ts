import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintDevToken } from '../../src/auth/mintDevToken.ts';
import { DEV_AUDIENCE, DEV_ISSUER } from '../../src/auth/devKeys.ts';
import { RS, RawWebSocketClient } from '../../packages/signalr-server/test/support/rawClient.ts';
import { startTestServer, status, type TestServer } from '../support/testServer.ts';
import { ACCESS_MATRIX, CALLER_KINDS, type Caller, type HttpRow, type HubRow, type Outcome, STREAM_CALLERS } from './accessMatrix.ts';

/** How a token travels: the Authorization header, `?access_token=`, or not at all. */
type Placement = 'header' | 'query' | 'none';

interface Credential {
  readonly token: string | null;
  readonly placement: Placement;
}

describe('access matrix: every route and hub method, every kind of caller', () => {
  let t: TestServer;
  const credentials = new Map<Caller, Credential[]>();

  beforeAll(async () => {
    t = await startTestServer();
    await t.ingest({
      messages: [
        status({ job_id: 'A1', user_id: 'alice' }),
        status({ job_id: 'A2', user_id: 'alice' }),
        status({ job_id: 'B1', user_id: 'bob' }),
      ],
    });
    await t.projected();
    const keys = t.server.devKeys!;
    const user = (sub: string, roles: string[] = []) => t.token(sub, roles);
    const streamToken = async (userToken: string, jobId?: string) => {
      const path = jobId ? `/jobs/${jobId}/signalr/negotiate` : '/signalr/negotiate';
      const response = await fetch(`${t.url}${path}`, { method: 'POST', headers: { authorization: `Bearer ${userToken}` } });
      expect(response.status).toBe(200);
      return ((await response.json()) as { accessToken: string }).accessToken;
    };
    const alice = await user('alice');
    const worker = await user('worker', ['publisher']);
    const admin = await user('root', ['admin']);
    const tokens: Record<Caller, string | null> = {
      none: null,
      expired: await mintDevToken(keys, { sub: 'alice', ttlSeconds: -60 }),
      'no-exp': await new SignJWT({ roles: [] })
        .setProtectedHeader({ alg: keys.algorithm, kid: keys.kid, typ: 'JWT' })
        .setSubject('alice')
        .setIssuer(DEV_ISSUER)
        .setAudience(DEV_AUDIENCE)
        .setIssuedAt()
        .sign(keys.privateKey),
      'other-user': await user('bob'),
      owner: alice,
      'owner-in-url': alice,
      'stream-A1': await streamToken(alice, 'A1'),
      'stream-A2': await streamToken(alice, 'A2'),
      feed: await streamToken(alice),
      publisher: worker,
      'publisher-stream': await streamToken(worker),
      auditor: await user('carol', ['auditor']),
      admin,
      'admin-stream-A1': await streamToken(admin, 'A1'),
    };
    for (const caller of CALLER_KINDS) {
      const token = tokens[caller];
      const placements: Placement[] =
        token === null ? ['none'] : caller === 'owner-in-url' ? ['query'] : STREAM_CALLERS.includes(caller) ? ['header', 'query'] : ['header'];
      credentials.set(caller, placements.map((placement) => ({ token, placement })));
    }
  });
  afterAll(async () => {
    await t?.close();
  });

  function withToken(path: string, credential: Credential): { url: string; headers: Record<string, string> } {
    const headers: Record<string, string> = {};
    let url = `${t.url}${path}`;
    if (credential.placement === 'header') headers['authorization'] = `Bearer ${credential.token}`;
    if (credential.placement === 'query') url += `${path.includes('?') ? '&' : '?'}access_token=${encodeURIComponent(credential.token!)}`;
    return { url, headers };
  }

  async function httpOutcome(row: HttpRow, credential: Credential): Promise<Outcome> {
    const { url, headers } = withToken(row.path, credential);
    const controller = new AbortController();
    if (row.sse) headers['accept'] = 'text/event-stream';
    if (row.body !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(url, {
      method: row.method,
      headers,
      signal: controller.signal,
      ...(row.body !== undefined && { body: JSON.stringify(row.body) }),
    });
    if (row.sse && response.status === 200) controller.abort();
    else await response.arrayBuffer();
    if (response.status === 401) expect(response.headers.get('www-authenticate')).toMatch(/^Bearer/);
    return response.status;
  }

  async function hubOutcome(row: HubRow, credential: Credential): Promise<Outcome> {
    const hub = `${t.url}/hubs/status`;
    const negotiate = withToken('/hubs/status/negotiate?negotiateVersion=1', credential);
    const negotiated = await fetch(negotiate.url, { method: 'POST', headers: negotiate.headers });
    if (negotiated.status !== 200) return negotiated.status;
    const { connectionToken } = (await negotiated.json()) as { connectionToken: string };
    const connect = withToken(`/hubs/status?id=${connectionToken}`, credential);
    const client = await RawWebSocketClient.connect(connect.url.replace(/^http/, 'ws'), null, connect.headers);
    try {
      client.send(`{"protocol":"json","version":1}${RS}`);
      await client.until((c) => c.messages.length >= 1);
      client.send(`${JSON.stringify({ type: 1, invocationId: 'm', target: row.method, arguments: row.args })}${RS}`);
      await client.until((c) => c.ofType(3).length === 1);
      const completion = client.ofType(3)[0]!;
      if (completion['error'] === undefined) return 'ok';
      return completion['error'] === 'not found' ? 'not found' : `error: ${String(completion['error'])}` as unknown as Outcome;
    } finally {
      client.socket.terminate();
      void hub;
    }
  }

  for (const row of ACCESS_MATRIX) {
    const name = row.kind === 'http' ? `${row.method} ${row.path}${row.body ? ` ${JSON.stringify(row.body)}` : ''}` : `hub ${row.method}(${row.args.map((a) => JSON.stringify(a)).join(', ')})`;
    it(name, async () => {
      const got: Record<string, Outcome> = {};
      const want: Record<string, Outcome> = {};
      for (const caller of CALLER_KINDS) {
        for (const credential of credentials.get(caller)!) {
          const key = STREAM_CALLERS.includes(caller) ? `${caller} (${credential.placement})` : caller;
          want[key] = row.expect[caller];
          got[key] = row.kind === 'http' ? await httpOutcome(row, credential) : await hubOutcome(row, credential);
        }
      }
      expect(got).toEqual(want);
    });
  }

  it('has a row for every route the app serves and every method the hub offers', async () => {
    const app = t.server.app as unknown as { router: { stack: Layer[] } };
    const served = new Set<string>();
    const walk = (stack: Layer[]) => {
      for (const layer of stack) {
        if (layer.route) for (const method of Object.keys(layer.route.methods)) served.add(`${method.toUpperCase()} ${layer.route.path}`);
        else if (layer.handle?.stack) walk(layer.handle.stack);
      }
    };
    walk(app.router.stack);
    const rows = new Set(ACCESS_MATRIX.filter((r): r is HttpRow => r.kind === 'http').map((r) => `${r.method} ${r.route}`));
    expect([...served].filter((route) => !rows.has(route))).toEqual([]);
    expect(t.server.signalr.methods.filter((method) => !ACCESS_MATRIX.some((r) => r.kind === 'hub' && r.method === method))).toEqual([]);
  });
});

interface Layer {
  readonly route?: { readonly path: string; readonly methods: Record<string, boolean> };
  readonly handle?: { readonly stack?: Layer[] };
}
