import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestServer, startTestServer, status } from '../support/testServer.ts';

describe('negotiate', () => {
  let t: TestServer;
  let alice: string;
  beforeAll(async () => {
    t = await startTestServer();
    alice = await t.token('alice');
    await t.ingest({
      messages: [
        status({ job_id: 'neg-1', stage: 'queued', state: 'queued', progress: 0, meta: { stage_order: ['queued', 'parsing', 'done'], expected_cycles: 3 } }),
        status({ job_id: 'neg-1', stage: 'parsing', cycle: 2, progress: 0.3, message: 'Parsed 12 of 40 pages', details: { pages: 12 } }),
      ],
    });
    await t.projected();
  });
  afterAll(async () => {
    await t.close();
  });

  const negotiate = (path: string, token?: string, body?: unknown) =>
    fetch(`${t.url}${path}`, {
      method: 'POST',
      headers: {
        ...(token && { authorization: `Bearer ${token}` }),
        ...(body !== undefined && { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });

  it('returns the hub url, a short-lived stream token scoped to the job group, the SSE url and the exact snapshot', async () => {
    const response = await negotiate('/jobs/neg-1/signalr/negotiate', alice);
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    const answer = (await response.json()) as any;
    expect(answer).toMatchObject({
      url: `${t.url}/hubs/status`,
      hub: 'status',
      groups: ['job:neg-1:user:alice'],
      sse_url: `/jobs/neg-1/events?access_token=${answer.accessToken}`,
    });
    expect(answer.history).toEqual({
      latest_status: {
        job_id: 'neg-1', stage: 'parsing', state: 'running', artifact: null, message: 'Parsed 12 of 40 pages',
        cycle: 2, progress: 0.3, details: { pages: 12 }, ts: expect.any(String), revision: 2,
      },
      timeline_events: [
        expect.objectContaining({ revision: 1, stage: 'queued', state: 'queued', progress: 0, details: {} }),
        { revision: 2, stage: 'parsing', state: 'running', artifact: null, message: 'Parsed 12 of 40 pages', ts: expect.any(String), cycle: 2, progress: 0.3, details: { pages: 12 } },
      ],
      meta: { stage_order: ['queued', 'parsing', 'done'], expected_cycles: 3, owner: 'alice', revision: 2, created_at: expect.any(String), timeline_from: 1 },
    });
    const claims = decodeJwt(answer.accessToken);
    expect(claims).toMatchObject({ sub: 'alice', groups: ['job:neg-1:user:alice'] });
    expect(claims.exp! - claims.iat!).toBeLessThanOrEqual(600);
  });

  it('takes the job id from the body on POST /signalr/negotiate', async () => {
    const answer = await (await negotiate('/signalr/negotiate', alice, { job_id: 'neg-1' })).json() as any;
    expect(answer.groups).toEqual(['job:neg-1:user:alice']);
    expect(answer.history.meta.revision).toBe(2);
  });

  it('scopes a negotiate without job_id to the caller’s feed', async () => {
    const answer = await (await negotiate('/signalr/negotiate', alice)).json() as any;
    expect(answer).toMatchObject({ groups: ['user:alice'], sse_url: expect.stringMatching(/^\/events\?access_token=/) });
    expect(answer).not.toHaveProperty('history');
  });

  it('answers 401 without a valid token', async () => {
    const none = await negotiate('/jobs/neg-1/signalr/negotiate');
    const forged = await negotiate('/jobs/neg-1/signalr/negotiate', `${alice.slice(0, -4)}AAAA`);
    expect([none.status, forged.status]).toEqual([401, 401]);
    expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect(await forged.text()).not.toContain(alice.slice(0, 40));
  });

  it('answers 404 for a missing job and for another user’s job, identically', async () => {
    const bob = await t.token('bob');
    const theirs = await negotiate('/jobs/neg-1/signalr/negotiate', bob);
    const missing = await negotiate('/jobs/neg-nope/signalr/negotiate', bob);
    expect([theirs.status, missing.status]).toEqual([404, 404]);
    const [a, b] = [(await theirs.json()) as any, (await missing.json()) as any];
    expect(a.title).toBe(b.title);
    expect(a.type).toBe(b.type);
  });

  it('lets admins and auditors negotiate any job; the owner is the job’s, not theirs', async () => {
    for (const role of ['admin', 'auditor']) {
      const answer = await (await negotiate('/jobs/neg-1/signalr/negotiate', await t.token(`${role}-1`, [role]))).json() as any;
      expect(answer.groups).toEqual(['job:neg-1:user:alice']);
    }
  });

  it('answers a job that is in the store but not yet projected with an empty snapshot at revision 0', async () => {
    await t.server.projections.stop();
    await t.ingest(status({ job_id: 'neg-2' }));
    const answer = await (await negotiate('/jobs/neg-2/signalr/negotiate', alice)).json() as any;
    expect(answer.history).toEqual({
      latest_status: null,
      timeline_events: [],
      meta: { stage_order: null, expected_cycles: null, owner: 'alice', revision: 0, created_at: null, timeline_from: null },
    });
  });
});
