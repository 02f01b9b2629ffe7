import { decodeJwt, decodeProtectedHeader, jwtVerify } from 'jose';
import { describe, expect, it } from 'vitest';
import { parseAzureSignalRConnectionString } from '../../../../src/transports/signalr/azure/connectionString.ts';
import { clientTarget, restTarget } from '../../../../src/transports/signalr/azure/serviceUrls.ts';
import { signServiceToken } from '../../../../src/transports/signalr/azure/signServiceToken.ts';

const KEY = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopq=';
const plain = parseAzureSignalRConnectionString(`Endpoint=https://contoso.service.signalr.net;AccessKey=${KEY};Version=1.0;`);
const moved = parseAzureSignalRConnectionString(
  `Endpoint=https://contoso.service.signalr.net;Port=8443;ClientEndpoint=https://signalr.example.com;AccessKey=${KEY};Version=1.0;`,
);

describe('Azure SignalR URLs and audiences', () => {
  it('client URL and audience as the doc states; the hub name in lower case', () => {
    expect(clientTarget(plain, 'Status')).toEqual({
      url: 'https://contoso.service.signalr.net/client/?hub=status',
      audience: 'https://contoso.service.signalr.net/client/?hub=status',
    });
  });

  it('client audience keeps the host of Endpoint and no port when ClientEndpoint and Port move the URL', () => {
    expect(clientTarget(moved, 'status')).toEqual({
      url: 'https://signalr.example.com/client/?hub=status',
      audience: 'https://contoso.service.signalr.net/client/?hub=status',
    });
  });

  it('group send: path segments encoded as sent, audience = URL with api-version (the doc example)', () => {
    expect(restTarget(plain, 'status', ['groups', 'user:auth0|alice', { action: ':send' }])).toEqual({
      url: 'https://contoso.service.signalr.net/api/hubs/status/groups/user%3Aauth0%7Calice/:send?api-version=2022-06-01',
      audience: 'https://contoso.service.signalr.net/api/hubs/status/groups/user%3Aauth0%7Calice/:send?api-version=2022-06-01',
    });
    expect(restTarget(plain, 'status', ['groups', 'job:job-42:user:auth0|alice', { action: ':send' }]).url).toContain(
      '/groups/job%3Ajob-42%3Auser%3Aauth0%7Calice/:send?',
    );
  });

  it('user-group membership: users first (2022-06-01), ttl on the URL only, no port in the audience', () => {
    expect(restTarget(moved, 'status', ['users', 'auth0|alice', 'groups', 'job:a b/c'], { ttl: '600' })).toEqual({
      url: 'https://contoso.service.signalr.net:8443/api/hubs/status/users/auth0%7Calice/groups/job%3Aa%20b%2Fc?api-version=2022-06-01&ttl=600',
      audience: 'https://contoso.service.signalr.net/api/hubs/status/users/auth0%7Calice/groups/job%3Aa%20b%2Fc?api-version=2022-06-01',
    });
  });

  it('signs HS256 with the UTF-8 bytes of the key as written, never its base64 decoding', async () => {
    const exp = Math.floor(Date.now() / 1000) + 60;
    const token = await signServiceToken(KEY, { audience: 'https://x/client/?hub=status', expiresAtSeconds: exp, claims: { nameid: 'auth0|alice' } });
    expect(decodeProtectedHeader(token)).toEqual({ alg: 'HS256', typ: 'JWT' });
    expect(decodeJwt(token)).toEqual({ aud: 'https://x/client/?hub=status', exp, nameid: 'auth0|alice' });
    await expect(jwtVerify(token, new TextEncoder().encode(KEY))).resolves.toBeDefined();
    await expect(jwtVerify(token, Buffer.from(KEY, 'base64'))).rejects.toThrow(/signature/);
  });
});
