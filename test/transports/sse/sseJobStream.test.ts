import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestServer, startTestServer, status } from '../../support/testServer.ts';
import { openSse } from '../../support/sseReader.ts';

const revisionsOf = (events: { event: string; data: string }[]) =>
  events.flatMap((e) =>
    e.event === 'timeline.event'
      ? [JSON.parse(e.data).event.revision as number]
      : e.event === 'timeline.bulk'
        ? (JSON.parse(e.data).events as { revision: number }[]).map((x) => x.revision)
        : [],
  );

describe('SSE job stream (GET /jobs/{id}/events)', () => {
  let t: TestServer;
  let alice: string;
  beforeAll(async () => {
    t = await startTestServer({}, { tuning: { sseHeartbeatMs: 300 } });
    alice = await t.token('alice');
  });
  afterAll(async () => {
    await t.close();
  });

  it('sends the whole timeline as one bulk, then live timeline.event (with id) and status.latest (without)', async () => {
    await t.ingest({ messages: [status({ job_id: 'sse-1' }), status({ job_id: 'sse-1' })] });
    const sse = await openSse(`${t.url}/jobs/sse-1/events`, { authorization: `Bearer ${alice}` });
    expect(sse.status).toBe(200);
    expect(sse.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(sse.headers.get('cache-control')).toBe('no-cache');
    expect(sse.headers.get('x-accel-buffering')).toBe('no');
    const [bulk] = await sse.waitForEvents(1, 'timeline.bulk');
    expect(bulk!.id).toBe('2');
    expect(JSON.parse(bulk!.data)).toMatchObject({ job_id: 'sse-1', meta: { from_revision: 1, to_revision: 2 } });
    expect(revisionsOf([bulk!])).toEqual([1, 2]);

    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    await t.ingest(status({ job_id: 'sse-1', stage: 'rendering', progress: 0.9, cycle: 1 }), { traceparent });
    await sse.waitForEvents(1, 'status.latest');
    const [bulkAgain, event, latest] = sse.events;
    expect(bulkAgain!.event).toBe('timeline.bulk');
    expect(event).toMatchObject({ event: 'timeline.event', id: '3' });
    expect(JSON.parse(event!.data)).toEqual({
      job_id: 'sse-1',
      event: expect.objectContaining({ revision: 3, stage: 'rendering', state: 'running', progress: 0.9, cycle: 1 }),
      trace: { traceparent },
    });
    expect(latest).toMatchObject({ event: 'status.latest', id: undefined });
    expect(JSON.parse(latest!.data)).toMatchObject({ job_id: 'sse-1', revision: 3, stage: 'rendering', trace: { traceparent } });
    sse.close();
  });

  it('resumes after Last-Event-ID with exactly the missed events, starting with one bulk of them', async () => {
    await t.ingest({ messages: [1, 2, 3].map(() => status({ job_id: 'sse-2' })) });
    const first = await openSse(`${t.url}/jobs/sse-2/events`, { authorization: `Bearer ${alice}` });
    const [bulk] = await first.waitForEvents(1, 'timeline.bulk');
    first.close();
    await t.ingest({ messages: [4, 5].map(() => status({ job_id: 'sse-2' })) });

    const resumed = await openSse(`${t.url}/jobs/sse-2/events`, { authorization: `Bearer ${alice}`, 'last-event-id': bulk!.id! });
    const [missed] = await resumed.waitForEvents(1, 'timeline.bulk');
    expect(JSON.parse(missed!.data).meta).toEqual({ from_revision: 4, to_revision: 5 });
    expect(revisionsOf([missed!])).toEqual([4, 5]);
    await t.ingest(status({ job_id: 'sse-2' }));
    await resumed.waitForEvents(1, 'timeline.event');
    expect(revisionsOf(resumed.events)).toEqual([4, 5, 6]);
    resumed.close();
  });

  it('resumes from ?after= with an empty bulk when nothing was missed', async () => {
    await t.ingest(status({ job_id: 'sse-3' }));
    const sse = await openSse(`${t.url}/jobs/sse-3/events?after=1`, { authorization: `Bearer ${alice}` });
    const [bulk] = await sse.waitForEvents(1, 'timeline.bulk');
    expect(bulk!.id).toBe('1');
    expect(JSON.parse(bulk!.data)).toEqual({ job_id: 'sse-3', events: [], meta: { from_revision: 2, to_revision: 1 } });
    sse.close();
  });

  it('sends retry: 2000 and comment heartbeats', async () => {
    await t.ingest(status({ job_id: 'sse-4' }));
    const response = await fetch(`${t.url}/jobs/sse-4/events`, { headers: { authorization: `Bearer ${alice}` } });
    const reader = response.body!.getReader();
    let text = '';
    while (!/\n:\n/.test(text)) text += new TextDecoder().decode((await reader.read()).value);
    expect(text).toMatch(/^retry:2000\n/);
    await reader.cancel();
  });

  it('accepts the stream token from negotiate in the query, and only for its own job', async () => {
    await t.ingest({ messages: [status({ job_id: 'sse-5' }), status({ job_id: 'sse-6' })] });
    const negotiate = await fetch(`${t.url}/jobs/sse-5/signalr/negotiate`, {
      method: 'POST',
      headers: { authorization: `Bearer ${alice}` },
    }).then((r) => r.json() as Promise<any>);
    const sse = await openSse(`${t.url}${negotiate.sse_url}`);
    expect(sse.status).toBe(200);
    await sse.waitForEvents(1, 'timeline.bulk');
    sse.close();
    const streamToken = new URL(negotiate.sse_url, t.url).searchParams.get('access_token')!;
    const other = await openSse(`${t.url}/jobs/sse-6/events?access_token=${streamToken}`);
    expect(other.status).toBe(404);
  });

  it('refuses a long-lived user token in the URL', async () => {
    await t.ingest(status({ job_id: 'sse-7' }));
    const sse = await openSse(`${t.url}/jobs/sse-7/events?access_token=${alice}`);
    expect(sse.status).toBe(401);
    expect(await sse.text()).not.toContain(alice);
  });

  it('answers 404 for another user’s job and for a missing one, alike', async () => {
    await t.ingest(status({ job_id: 'sse-8' }));
    const bob = await t.token('bob');
    const theirs = await openSse(`${t.url}/jobs/sse-8/events`, { authorization: `Bearer ${bob}` });
    const missing = await openSse(`${t.url}/jobs/sse-nope/events`, { authorization: `Bearer ${bob}` });
    expect([theirs.status, missing.status]).toEqual([404, 404]);
    expect(JSON.parse(await theirs.text()).title).toBe(JSON.parse(await missing.text()).title);
  });

  it('rejects a malformed Last-Event-ID with a problem naming it', async () => {
    await t.ingest(status({ job_id: 'sse-9' }));
    const sse = await openSse(`${t.url}/jobs/sse-9/events`, { authorization: `Bearer ${alice}`, 'last-event-id': '3; DROP' });
    expect(sse.status).toBe(400);
    expect(JSON.parse(await sse.text()).errors).toEqual([expect.objectContaining({ path: 'Last-Event-ID' })]);
  });

  it('ends the stream when the token expires, so the client re-negotiates', async () => {
    await t.ingest(status({ job_id: 'sse-10' }));
    const { mintDevToken } = await import('../../../src/auth/mintDevToken.ts');
    const shortLived = await mintDevToken(t.server.devKeys!, { sub: 'alice', ttlSeconds: 2 });
    const sse = await openSse(`${t.url}/jobs/sse-10/events`, { authorization: `Bearer ${shortLived}` });
    await sse.waitForEvents(1, 'timeline.bulk');
    await sse.ended;
    expect(t.server.liveFeed.subscriberCount).toBe(0);
  });
});

describe('SSE feed (GET /events)', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(async () => {
    await t.close();
  });

  it('follows only the caller’s jobs (admins: all), with positions as ids, and resumes by position', async () => {
    const alice = await t.token('alice');
    const admin = await t.token('root', ['admin']);
    await t.ingest(status({ job_id: 'feed-a', user_id: 'alice' }));
    await t.projected();
    const page = await fetch(`${t.url}/jobs`, { headers: { authorization: `Bearer ${alice}` } }).then((r) => r.json() as Promise<any>);
    const mine = await openSse(`${t.url}/events?after=${page.position}`, { authorization: `Bearer ${alice}` });
    const all = await openSse(`${t.url}/events?after=${page.position}`, { authorization: `Bearer ${admin}` });
    await t.ingest(status({ job_id: 'feed-b', user_id: 'bob' }));
    await t.ingest(status({ job_id: 'feed-a', user_id: 'alice' }));
    await all.waitForEvents(2, 'status.latest');
    await mine.waitForEvents(1, 'status.latest');
    expect(all.events.filter((e) => e.event === 'timeline.event').map((e) => JSON.parse(e.data).job_id)).toEqual(['feed-b', 'feed-a']);
    const mineEvents = mine.events.filter((e) => e.event === 'timeline.event');
    expect(mineEvents.map((e) => JSON.parse(e.data).job_id)).toEqual(['feed-a']);
    mine.close();

    // Missed while disconnected: exactly the events after the last id, nothing of bob's.
    await t.ingest(status({ job_id: 'feed-a', user_id: 'alice' }));
    await t.ingest(status({ job_id: 'feed-b', user_id: 'bob' }));
    const resumed = await openSse(`${t.url}/events`, { authorization: `Bearer ${alice}`, 'last-event-id': mineEvents[0]!.id! });
    const [missed] = await resumed.waitForEvents(1, 'timeline.event');
    expect(JSON.parse(missed!.data)).toMatchObject({ job_id: 'feed-a', event: { revision: 3 } });
    expect(BigInt(missed!.id!)).toBeGreaterThan(BigInt(mineEvents[0]!.id!));
    resumed.close();
    all.close();
  });

  it('rejects a resume position that is not one, or lies beyond the store head', async () => {
    const alice = await t.token('alice');
    const garbage = await openSse(`${t.url}/events?after=abc`, { authorization: `Bearer ${alice}` });
    const future = await openSse(`${t.url}/events`, { authorization: `Bearer ${alice}`, 'last-event-id': '999999999' });
    expect([garbage.status, future.status]).toEqual([400, 400]);
  });
});
