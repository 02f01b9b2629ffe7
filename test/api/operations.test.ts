import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSse } from '../support/sseReader.ts';
import { type TestServer, eventually, startTestServer, status } from '../support/testServer.ts';

describe('operations', () => {
  let t: TestServer;
  let logs = '';
  beforeAll(async () => {
    const sink = new Writable({
      write(chunk, _encoding, done) {
        logs += chunk;
        done();
      },
    });
    t = await startTestServer({}, { logger: pino({ level: 'trace' }, sink) });
  });
  afterAll(async () => {
    await t.close();
  });

  it('/healthz answers while the process lives', async () => {
    const response = await fetch(`${t.url}/healthz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok' });
  });

  it('/readyz reports the projection lag and turns 503 when it exceeds READY_MAX_LAG', async () => {
    expect(await (await fetch(`${t.url}/readyz`)).json()).toEqual({ status: 'ready', projection_lag: 0 });
    const lagging = await startTestServer({ READY_MAX_LAG: '3' });
    try {
      await lagging.server.projections.stop();
      await lagging.ingest({ messages: Array.from({ length: 4 }, () => status({ job_id: 'lag-1' })) });
      const response = await fetch(`${lagging.url}/readyz`);
      expect(response.status).toBe(503);
      // Five events are unapplied; the count stops at READY_MAX_LAG + 1 to stay cheap.
      expect(await response.json()).toMatchObject({ status: 'unavailable', projection_lag: 4, max_lag: 3 });
    } finally {
      await lagging.close();
    }
  });

  it('/metrics exposes connections, messages sent, ingest outcomes, latency and projection figures', async () => {
    const alice = await t.token('alice');
    await t.ingest(status({ job_id: 'ops-1' }));
    const sse = await openSse(`${t.url}/jobs/ops-1/events`, { authorization: `Bearer ${alice}` });
    await sse.waitForEvents(1, 'timeline.bulk');
    await t.ingest(status({ job_id: 'ops-1' }));
    await sse.waitForEvents(1, 'status.latest');
    const text = await (await fetch(`${t.url}/metrics`)).text();
    expect(text).toMatch(/statuscast_connections\{transport="sse"\} 1/);
    expect(text).toMatch(/statuscast_messages_sent_total\{transport="sse",target="timeline.event"\} 1/);
    expect(text).toMatch(/statuscast_ingest_messages_total\{outcome="appended",source="http"\} [1-9]/);
    expect(text).toMatch(/statuscast_append_to_send_seconds_count\{transport="sse"\} 1/);
    expect(text).toMatch(/statuscast_projection_checkpoint [1-9]/);
    expect(text).toMatch(/statuscast_projection_lag_events/);
    sse.close();
    await eventually(async () => /statuscast_connections\{transport="sse"\} 0/.test(await (await fetch(`${t.url}/metrics`)).text()));
  });

  it('never writes a token to the logs, whatever route carried it', async () => {
    const publisher = await t.token('worker', ['publisher']);
    const alice = await t.token('alice');
    await fetch(`${t.url}/ingest/status`, {
      method: 'POST',
      headers: { authorization: `Bearer ${publisher}`, 'content-type': 'application/json' },
      body: JSON.stringify(status({ job_id: 'ops-2', user_id: 'alice' })),
    });
    await fetch(`${t.url}/ingest/status`, {
      method: 'POST',
      headers: { authorization: `Bearer ${publisher}`, 'content-type': 'application/json' },
      body: JSON.stringify(status({ job_id: 'ops-2', user_id: 'someone-else' })),
    });
    const negotiate = await fetch(`${t.url}/jobs/ops-2/signalr/negotiate`, {
      method: 'POST',
      headers: { authorization: `Bearer ${alice}` },
    }).then((r) => r.json() as Promise<any>);
    const streamToken = negotiate.accessToken as string;
    const sse = await openSse(`${t.url}${negotiate.sse_url}`);
    await sse.waitForEvents(1, 'timeline.bulk');
    sse.close();
    await openSse(`${t.url}/jobs/ops-2/events?access_token=${alice}`);
    await fetch(`${t.url}/jobs/ops-2`, { headers: { authorization: `Bearer ${alice}x` } });
    await fetch(`${t.url}/hubs/status/negotiate?negotiateVersion=1&access_token=${streamToken}`, { method: 'POST' });
    await eventually(() => logs.includes('/jobs/ops-2/events'), 5000, 'the SSE request to be logged');
    expect(logs.length).toBeGreaterThan(0);
    for (const token of [publisher, alice, streamToken]) {
      const signature = token.split('.')[2]!;
      expect(logs).not.toContain(signature);
    }
    expect(logs).not.toContain('access_token=');
  });
});
