import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestServer, startTestServer, status } from '../support/testServer.ts';
import { openSse } from '../support/sseReader.ts';

/**
 * The stream paths are served before express (src/api/streamRequests.ts). What express did
 * for them must still happen: CORS for allowed origins, problem+json for what is refused,
 * and the spellings left to express answer as the exact ones do.
 */
describe('stream requests served before express', () => {
  const origin = 'https://app.example';
  let t: TestServer;
  let alice: string;
  beforeAll(async () => {
    t = await startTestServer({ CORS_ORIGINS: origin });
    alice = await t.token('alice');
    await t.ingest(status({ job_id: 'streams-1', user_id: 'alice' }));
  });
  afterAll(async () => {
    await t.close();
  });

  it('echoes an allowed origin on an event stream and answers its preflight', async () => {
    const sse = await openSse(`${t.url}/jobs/streams-1/events`, { authorization: `Bearer ${alice}`, origin });
    expect(sse.status).toBe(200);
    expect(sse.headers.get('access-control-allow-origin')).toBe(origin);
    expect(sse.headers.get('access-control-allow-credentials')).toBe('true');
    expect(sse.headers.get('vary')).toBe('Origin');
    await sse.waitForEvents(1, 'timeline.bulk');
    sse.close();

    const preflight = await fetch(`${t.url}/events`, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'GET' } });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-headers')).toContain('last-event-id');

    const foreign = await fetch(`${t.url}/events`, { headers: { origin: 'https://other.example', authorization: `Bearer ${alice}` } });
    expect(foreign.headers.get('access-control-allow-origin')).toBeNull();
    await foreign.body?.cancel();
  });

  it('refuses with the same problem documents as express, on the exact path and on one express serves', async () => {
    for (const path of ['/jobs/streams-1/events', '/jobs/streams-1/events/']) {
      const missing = await fetch(`${t.url}${path}`);
      expect(missing.status).toBe(401);
      expect(missing.headers.get('content-type')).toBe('application/problem+json; charset=utf-8');
      expect(missing.headers.get('www-authenticate')).toBe('Bearer realm="statuscast"');
      expect(await missing.json()).toMatchObject({ status: 401, type: 'https://statuscast.dev/problems/unauthorized' });
    }
    const bob = await t.token('bob');
    for (const path of ['/jobs/streams-1/events', '/jobs/streams-1/events/', '/jobs/no-such-job/events']) {
      const hidden = await fetch(`${t.url}${path}`, { headers: { authorization: `Bearer ${bob}` } });
      expect(hidden.status).toBe(404);
      expect(await hidden.json()).toMatchObject({ status: 404, type: 'https://statuscast.dev/problems/not-found' });
    }
    const twice = await fetch(`${t.url}/events?after=1&after=2`, { headers: { authorization: `Bearer ${alice}` } });
    expect(twice.status).toBe(400);
    expect(await twice.json()).toMatchObject({ errors: [{ path: 'after' }] });
  });
});
