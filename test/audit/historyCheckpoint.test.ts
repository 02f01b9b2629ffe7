import { generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GENESIS_HASH } from '../../src/audit/chainHash.ts';
import { verifyCheckpoint } from '../../src/audit/checkpoint.ts';
import { loadConfig } from '../../src/config.ts';
import { type TestServer, startTestServer, status } from '../support/testServer.ts';
import { makeTempDir } from '../support/tempDir.ts';

describe('history pages and the audit keys', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
    await t.ingest({ messages: Array.from({ length: 5 }, () => status({ job_id: 'page-1' })) });
  });
  afterAll(() => t.close());

  async function page(query: string) {
    const auditor = await t.token('carol', ['auditor']);
    const response = await fetch(`${t.url}/jobs/page-1/history${query}`, { headers: { authorization: `Bearer ${auditor}` } });
    expect(response.status).toBe(200);
    return (await response.json()) as any;
  }
  const jwks = async () => (await fetch(`${t.url}/.well-known/statuscast-audit-keys.json`)).json() as Promise<any>;

  it('serves the public audit keys to anyone, as a JWKS without private parts', async () => {
    const response = await fetch(`${t.url}/.well-known/statuscast-audit-keys.json`);
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('public, max-age=300');
    const body = (await response.json()) as any;
    expect(body.keys).toEqual([{ kty: 'OKP', crv: 'Ed25519', x: expect.any(String), kid: expect.any(String), alg: 'EdDSA', use: 'sig' }]);
  });

  it('gives every event its hashes and ends each page with a checkpoint over its last event', async () => {
    const first = await page('?limit=3');
    expect(first.events.map((e: any) => e.revision)).toEqual([0, 1, 2]);
    expect(first.events[0].prev_hash).toBe(GENESIS_HASH);
    for (const [i, event] of first.events.entries()) {
      expect(event.hash).toMatch(/^[0-9a-f]{64}$/);
      expect(event.metadata).toMatchObject({ hash: event.hash, prev_hash: event.prev_hash });
      if (i > 0) expect(event.prev_hash).toBe(first.events[i - 1].hash);
    }
    expect(Object.keys(first).at(-1)).toBe('checkpoint');
    expect(first.checkpoint).toMatchObject({ job_id: 'page-1', revision: 2, hash: first.events[2].hash });
    expect(await verifyCheckpoint(first.checkpoint, await jwks())).toMatchObject({ ok: true, checkpoint: { revision: 2 } });

    const second = await page('?after=2&limit=3');
    expect(second.events[0].prev_hash).toBe(first.events[2].hash);
    expect(second.checkpoint).toMatchObject({ revision: 5, hash: second.events.at(-1).hash });
  });

  it('signs the head when a page is empty, so a caught-up reader still gets a checkpoint', async () => {
    const beyond = await page('?after=5');
    expect(beyond.events).toEqual([]);
    const head = (await page('?after=4')).events[0];
    expect(beyond.checkpoint).toMatchObject({ revision: 5, hash: head.hash });
  });
});

describe('the audit signing key', () => {
  it('is kept in DATA_DIR: the same key after a restart', async () => {
    const dir = makeTempDir('audit-key');
    const kidOf = async (server: TestServer) => ((await (await fetch(`${server.url}/.well-known/statuscast-audit-keys.json`)).json()) as any).keys[0].kid;
    const one = await startTestServer({}, { dataDir: dir.path });
    const kid = await kidOf(one);
    await one.close();
    const two = await startTestServer({}, { dataDir: dir.path });
    expect(await kidOf(two)).toBe(kid);
    await two.close();
    dir.remove();
  });

  for (const [name, pem, kty] of [
    ['Ed25519', generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), 'OKP'],
    ['P-256', generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), 'EC'],
  ] as const) {
    it(`comes from AUDIT_SIGNING_KEY in production (${name} PEM), and signs with it`, async () => {
      const t = await startTestServer({ AUDIT_SIGNING_KEY: pem });
      try {
        const keys = (await (await fetch(`${t.url}/.well-known/statuscast-audit-keys.json`)).json()) as any;
        expect(keys.keys).toHaveLength(1);
        expect(keys.keys[0]).toMatchObject({ kty, alg: kty === 'OKP' ? 'EdDSA' : 'ES256' });
        expect(keys.keys[0]).not.toHaveProperty('d');
        await t.ingest(status({ job_id: 'keyed-1' }));
        const auditor = await t.token('carol', ['auditor']);
        const body = (await (await fetch(`${t.url}/jobs/keyed-1/history`, { headers: { authorization: `Bearer ${auditor}` } })).json()) as any;
        expect(await verifyCheckpoint(body.checkpoint, keys)).toMatchObject({ ok: true });
      } finally {
        await t.close();
      }
    });
  }

  it('refuses an AUDIT_SIGNING_KEY that is not a private key, naming the variable', () => {
    expect(() => loadConfig({ AUDIT_SIGNING_KEY: 'hunter2' })).toThrow(/^invalid configuration: AUDIT_SIGNING_KEY must be/);
  });
});
