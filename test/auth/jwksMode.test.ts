import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type CryptoKey, type JWK, SignJWT, exportJWK, generateKeyPair } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestServer, startTestServer, status } from '../support/testServer.ts';

const ISSUER = 'https://tenant.example.auth0.com/';
const AUDIENCE = 'https://statuscast.example.com/api';
const ROLES_CLAIM = 'https://statuscast.example.com/roles';

describe('JWKS (Auth0-style) mode', () => {
  let jwksServer: Server;
  let jwksRequests = 0;
  let signingKey: CryptoKey;
  let strangerKey: CryptoKey;
  let publicJwk: JWK;
  let t: TestServer;

  const sign = (claims: Record<string, unknown>, options: { key?: CryptoKey; iss?: string; aud?: string; exp?: number; kid?: string } = {}) =>
    new SignJWT(claims)
      .setProtectedHeader({ alg: 'RS256', kid: options.kid ?? 'key-1' })
      .setIssuer(options.iss ?? ISSUER)
      .setAudience(options.aud ?? AUDIENCE)
      .setIssuedAt()
      .setExpirationTime(options.exp ?? Math.floor(Date.now() / 1000) + 300)
      .sign(options.key ?? signingKey);

  beforeAll(async () => {
    ({ privateKey: signingKey } = await generateKeyPair('RS256').then(async (pair) => {
      publicJwk = { ...(await exportJWK(pair.publicKey)), kid: 'key-1', alg: 'RS256', use: 'sig' };
      return pair;
    }));
    ({ privateKey: strangerKey } = await generateKeyPair('RS256'));
    jwksServer = createServer((req, res) => {
      jwksRequests++;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ keys: [publicJwk] }));
    });
    await new Promise<void>((resolve) => jwksServer.listen(0, '127.0.0.1', resolve));
    const { port } = jwksServer.address() as AddressInfo;
    t = await startTestServer({
      AUTH_JWKS_URL: `http://127.0.0.1:${port}/.well-known/jwks.json`,
      AUTH_ISSUER: ISSUER,
      AUTH_AUDIENCE: AUDIENCE,
      AUTH_ROLES_CLAIM: ROLES_CLAIM,
    });
  });
  afterAll(async () => {
    await t.close();
    jwksServer.close();
  });

  const ingestWith = (token: string) =>
    fetch(`${t.url}/ingest/status`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(status({ job_id: 'jwks-1', user_id: 'auth0|alice' })),
    });

  it('accepts a token from the JWKS with roles from a namespaced claim, and caches the key set', async () => {
    const publisher = await sign({ sub: 'auth0|worker', [ROLES_CLAIM]: ['publisher'] });
    expect((await ingestWith(publisher)).status).toBe(202);
    expect((await ingestWith(publisher)).status).toBe(202);
    expect(jwksRequests).toBe(1);
    const alice = await sign({ sub: 'auth0|alice' });
    const jobs = await fetch(`${t.url}/jobs/jwks-1`, { headers: { authorization: `Bearer ${alice}` } });
    expect(jobs.status).toBe(200);
  });

  it('answers 403 when the namespaced roles claim lacks publisher (a plain "roles" claim does not count)', async () => {
    const token = await sign({ sub: 'auth0|worker', roles: ['publisher'] });
    expect((await ingestWith(token)).status).toBe(403);
  });

  it.each([
    ['a wrong issuer', { iss: 'https://evil.example.com/' }],
    ['a wrong audience', { aud: 'https://other.example.com/api' }],
    ['an expired token', { exp: Math.floor(Date.now() / 1000) - 60 }],
    ['a key not in the JWKS', { key: undefined as unknown as CryptoKey, stranger: true }],
  ])('answers 401 with WWW-Authenticate for %s', async (_label, options) => {
    const token = await sign(
      { sub: 'auth0|worker', [ROLES_CLAIM]: ['publisher'] },
      'stranger' in options ? { key: strangerKey } : (options as { iss?: string; aud?: string; exp?: number }),
    );
    const response = await ingestWith(token);
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toMatch(/^Bearer/);
    const body = await response.text();
    expect(body).not.toContain(token);
    expect(JSON.parse(body)).toMatchObject({ status: 401, title: 'Unauthorized' });
  });

  it('answers 401 for an unsigned (alg: none) token and for garbage', async () => {
    const header = Buffer.from(JSON.stringify({ alg: 'none' })).toString('base64url');
    const payload = Buffer.from(JSON.stringify({ sub: 'auth0|worker', iss: ISSUER, aud: AUDIENCE, [ROLES_CLAIM]: ['publisher'] })).toString('base64url');
    expect((await ingestWith(`${header}.${payload}.`)).status).toBe(401);
    expect((await ingestWith('garbage')).status).toBe(401);
  });

  it('serves no dev endpoints', async () => {
    expect((await fetch(`${t.url}/.well-known/jwks.json`)).status).toBe(404);
    expect((await fetch(`${t.url}/dev/tokens`, { method: 'POST' })).status).toBe(404);
  });

  it('still signs its own stream tokens in negotiate, valid for the SSE URL', async () => {
    const alice = await sign({ sub: 'auth0|alice' });
    const answer = await fetch(`${t.url}/jobs/jwks-1/signalr/negotiate`, {
      method: 'POST',
      headers: { authorization: `Bearer ${alice}` },
    }).then((r) => r.json() as Promise<any>);
    expect(answer.groups).toEqual(['job:jwks-1:user:auth0|alice']);
    const sse = await fetch(`${t.url}${answer.sse_url}`, { headers: { accept: 'text/event-stream' } });
    expect(sse.status).toBe(200);
    await sse.body!.cancel();
  });
});
