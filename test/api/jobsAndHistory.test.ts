import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestServer, startTestServer, status } from '../support/testServer.ts';

describe('jobs and auditor history', () => {
  let t: TestServer;
  const get = async (path: string, token: string, accept = 'application/json') => {
    const response = await fetch(`${t.url}${path}`, { headers: { authorization: `Bearer ${token}`, accept } });
    return { status: response.status, type: response.headers.get('content-type'), text: await response.text() };
  };
  beforeAll(async () => {
    t = await startTestServer();
    for (let i = 1; i <= 5; i++) await t.ingest(status({ job_id: `list-a${i}`, user_id: 'alice' }));
    await t.ingest(status({ job_id: 'list-b1', user_id: 'bob' }));
    const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    await t.ingest({ messages: Array.from({ length: 24 }, (_, i) => status({ job_id: 'audit-1', user_id: 'alice', cycle: i })) }, { traceparent });
    await t.projected();
  });
  afterAll(async () => {
    await t.close();
  });

  describe('GET /jobs', () => {
    it('lists only the caller’s jobs, newest first, in pages with an opaque cursor', async () => {
      const alice = await t.token('alice');
      const first = JSON.parse((await get('/jobs?limit=4', alice)).text);
      expect(first.jobs.map((j: any) => j.job_id)).toEqual(['audit-1', 'list-a5', 'list-a4', 'list-a3']);
      expect(first.jobs[0]).toMatchObject({ owner: 'alice', revision: 24, latest_status: { revision: 24, cycle: 23 } });
      expect(first.next_cursor).toEqual(expect.any(String));
      const second = JSON.parse((await get(`/jobs?limit=4&cursor=${first.next_cursor}`, alice)).text);
      expect(second.jobs.map((j: any) => j.job_id)).toEqual(['list-a2', 'list-a1']);
      expect(second.next_cursor).toBeNull();
      expect(first.position).toEqual(expect.stringMatching(/^[0-9]+$/));
    });

    it('lists every job for admins', async () => {
      const page = JSON.parse((await get('/jobs?limit=200', await t.token('root', ['admin']))).text);
      expect(page.jobs.map((j: any) => j.job_id)).toContain('list-b1');
      expect(page.jobs).toHaveLength(7);
    });

    it('rejects a bad limit or cursor with a problem naming it', async () => {
      const alice = await t.token('alice');
      for (const [query, field] of [['limit=0', 'limit'], ['limit=x', 'limit'], ['cursor=zzz', 'cursor']]) {
        const answer = await get(`/jobs?${query}`, alice);
        expect(answer.status).toBe(400);
        expect(JSON.parse(answer.text).errors[0].path).toBe(field);
      }
    });

    it('returns a job’s history on GET /jobs/{id}, 404 for others', async () => {
      const alice = await t.token('alice');
      const job = JSON.parse((await get('/jobs/list-a1', alice)).text);
      expect(job).toMatchObject({ job_id: 'list-a1', meta: { owner: 'alice', revision: 1 }, latest_status: { revision: 1 } });
      expect((await get('/jobs/list-b1', alice)).status).toBe(404);
      expect((await get('/jobs/bad%20id', alice)).status).toBe(400);
    });
  });

  describe('GET /jobs/{id}/history', () => {
    it('pages the raw stream, every event type, with head and next_after', async () => {
      const auditor = await t.token('carol', ['auditor']);
      const first = JSON.parse((await get('/jobs/audit-1/history?limit=10', auditor)).text);
      expect(first).toMatchObject({ job_id: 'audit-1', head_revision: 24, next_after: 9 });
      expect(first.events.map((e: any) => e.revision)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
      expect(first.events[0]).toMatchObject({ type: 'JobRegistered', data: { job_id: 'audit-1', user_id: 'alice' } });
      expect(first.events[1]).toMatchObject({
        type: 'StatusReported',
        position: expect.stringMatching(/^[0-9]+$/),
        metadata: { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01', ingested_by: 'worker' },
        recorded_at: expect.stringMatching(/Z$/),
      });
      const last = JSON.parse((await get('/jobs/audit-1/history?after=20&limit=1000', auditor)).text);
      expect(last.events.map((e: any) => e.revision)).toEqual([21, 22, 23, 24]);
      expect(last.next_after).toBe(24);
      const beyond = JSON.parse((await get('/jobs/audit-1/history?after=24', auditor)).text);
      expect(beyond).toMatchObject({ events: [], next_after: 24, head_revision: 24 });
    });

    it('exports the whole stream as NDJSON, one event a line, in revision order, then a signed checkpoint', async () => {
      const answer = await get('/jobs/audit-1/history', await t.token('alice'), 'application/x-ndjson');
      expect(answer.status).toBe(200);
      expect(answer.type).toMatch(/^application\/x-ndjson/);
      const lines = answer.text.trimEnd().split('\n').map((line) => JSON.parse(line));
      const events = lines.slice(0, -1);
      expect(events.map((e) => e.revision)).toEqual(Array.from({ length: 25 }, (_, i) => i));
      expect(events[0].type).toBe('JobRegistered');
      expect(lines.at(-1)).toEqual({
        checkpoint: { job_id: 'audit-1', revision: 24, hash: events[24].hash, signed_at: expect.stringMatching(/Z$/), jws: expect.any(String) },
      });
    });

    it('is for the owner, admins and auditors only; limit is bounded', async () => {
      expect((await get('/jobs/audit-1/history', await t.token('bob'))).status).toBe(404);
      expect((await get('/jobs/audit-1/history', await t.token('root', ['admin']))).status).toBe(200);
      expect((await get('/jobs/audit-1/history?limit=1001', await t.token('alice'))).status).toBe(400);
      const anonymous = await fetch(`${t.url}/jobs/audit-1/history`);
      expect(anonymous.status).toBe(401);
    });
  });
});
