import { monitorEventLoopDelay } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NewEvent } from '../../src/store/eventStore.ts';
import { openSse } from '../support/sseReader.ts';
import { startTestServer, status, type TestServer } from '../support/testServer.ts';
import { RS, RawWebSocketClient } from '../../packages/signalr-server/test/support/rawClient.ts';

/** Events in the store: well beyond what one feed resume may scan (10,000). */
const STORE_EVENTS = 30_000;

/**
 * The longest the event loop was blocked while `work` ran. The server runs in this process,
 * so a synchronous scan in it shows here as a stall of everything else.
 */
async function longestStallMs(work: () => Promise<void>): Promise<number> {
  const histogram = monitorEventLoopDelay({ resolution: 5 });
  histogram.enable();
  try {
    await work();
  } finally {
    histogram.disable();
  }
  return histogram.max / 1e6;
}

describe('bounded work per request', () => {
  let t: TestServer;

  beforeAll(async () => {
    t = await startTestServer();
    // Written straight to the store (the ingest path is not what is measured): 300 jobs of 100 events.
    for (let job = 0; job < STORE_EVENTS / 100; job++) {
      const events: NewEvent[] = [
        { id: crypto.randomUUID(), type: 'JobRegistered', data: { job_id: `bulk-${job}`, user_id: 'someone', meta: {} }, metadata: {} },
        ...Array.from({ length: 99 }, (_, i) => ({
          id: crypto.randomUUID(),
          type: 'StatusReported',
          data: { job_id: `bulk-${job}`, stage: 'work', state: 'running', message: `step ${i}`, progress: null, cycle: null, artifact: null, details: {}, ts: new Date().toISOString() },
          metadata: {},
        })),
      ];
      await t.server.store.appendToStreams([{ stream: `job-bulk-${job}`, events, expectedRevision: 'no_stream' }]);
    }
    await t.ingest(status({ job_id: 'mine', user_id: 'nobody-much' }));
  }, 120_000);
  afterAll(async () => {
    await t?.close();
  });

  it('SSE /events: a resume too far back answers feed.reset after a bounded scan that never stalls the server', async () => {
    const loner = await t.token('loner');
    let events: { event: string; data: string }[] = [];
    const stall = await longestStallMs(async () => {
      const sse = await openSse(`${t.url}/events?after=1`, { authorization: `Bearer ${loner}` });
      expect(sse.status).toBe(200);
      await sse.ended;
      events = sse.events;
    });
    expect(events).toEqual([{ event: 'feed.reset', data: '{"reason":"too-far-behind"}', id: undefined }]);
    // A synchronous scan of the store blocks for hundreds of milliseconds here; pages with
    // turns between them keep every stall to one page's read.
    expect(stall).toBeLessThan(250);
  });

  it('hub SubscribeFeed: the same resume is an error Completion, and the connection stays open', async () => {
    const loner = await t.token('loner');
    const client = await RawWebSocketClient.handshaken(`${t.url}/hubs/status`, loner);
    try {
      const stall = await longestStallMs(async () => {
        client.send(`${JSON.stringify({ type: 1, invocationId: 'f', target: 'SubscribeFeed', arguments: ['1'] })}${RS}`);
        await client.until((c) => c.ofType(3).length === 1, 30_000);
      });
      expect(client.ofType(3)[0]!['error']).toBe('too-far-behind: reload the job list (GET /jobs) and subscribe from now on');
      expect(client.closeCode).toBeNull();
      expect(stall).toBeLessThan(250);
    } finally {
      client.socket.terminate();
    }
  });

  it('SSE job stream: a long history arrives in bulk pages of at most 500 entries, gap-free', async () => {
    const alice = await t.token('alice');
    const jobId = 'long-history';
    for (let batch = 0; batch < 3; batch++) {
      const { status: code } = await t.ingest({ messages: Array.from({ length: 400 }, () => status({ job_id: jobId, user_id: 'alice' })) });
      expect(code).toBe(202);
    }
    const sse = await openSse(`${t.url}/jobs/${jobId}/events`, { authorization: `Bearer ${alice}` });
    const bulks = await sse.waitForEvents(3, 'timeline.bulk');
    sse.close();
    const pages = bulks.map((b) => JSON.parse(b.data) as { events: { revision: number }[]; meta: { from_revision: number; to_revision: number } });
    expect(pages.map((p) => p.events.length)).toEqual([500, 500, 200]);
    expect(pages.map((p) => p.meta)).toEqual([
      { from_revision: 1, to_revision: 500 },
      { from_revision: 501, to_revision: 1000 },
      { from_revision: 1001, to_revision: 1200 },
    ]);
    expect(bulks.map((b) => b.id)).toEqual(['500', '1000', '1200']);
    expect(pages.flatMap((p) => p.events.map((e) => e.revision))).toEqual(Array.from({ length: 1200 }, (_, i) => i + 1));
  });
});

describe('bounded work per unauthenticated request: /readyz', () => {
  it('counts the projection lag at most once a second, however many probes arrive', async () => {
    const { createSqliteEventStore } = await import('../../src/store/sqlite/createSqliteEventStore.ts');
    const { makeTempDir } = await import('../support/tempDir.ts');
    const dir = makeTempDir('readyz');
    const inner = createSqliteEventStore({ file: `${dir.path}/events.sqlite`, sync: 'normal' });
    let examined = 0;
    const store = new Proxy(inner, {
      get(target, property) {
        if (property !== 'readAll') return Reflect.get(target, property);
        return (options: Parameters<typeof inner.readAll>[0]) =>
          (async function* () {
            for await (const event of target.readAll(options)) {
              examined++;
              yield event;
            }
          })();
      },
    });
    const t = await startTestServer({ READY_MAX_LAG: '100' }, { store });
    try {
      await t.server.projections.stop();
      for (let job = 0; job < 5; job++) {
        await t.server.store.appendToStreams([
          {
            stream: `job-lagging-${job}`,
            expectedRevision: 'no_stream',
            events: Array.from({ length: 100 }, (_, i) => ({
              id: crypto.randomUUID(),
              type: i === 0 ? 'JobRegistered' : 'StatusReported',
              data: { job_id: `lagging-${job}`, user_id: 'x' },
              metadata: {},
            })),
          },
        ]);
      }
      examined = 0;
      const answers = await Promise.all(Array.from({ length: 20 }, () => fetch(`${t.url}/readyz`)));
      expect(answers.map((a) => a.status)).toEqual(Array(20).fill(503));
      expect((await answers[0]!.json()) as unknown).toMatchObject({ reason: 'projection lag too high', max_lag: 100 });
      // One count of at most READY_MAX_LAG + 1 events, not one per probe (20 × 101 before).
      expect(examined).toBeLessThanOrEqual(101);
    } finally {
      await t.close();
      dir.remove();
    }
  });
});

describe('bounded answers: the negotiate snapshot', () => {
  it('holds the newest 500 timeline entries of a long job and says where they start', async () => {
    const t = await startTestServer();
    try {
      for (let batch = 0; batch < 2; batch++) {
        await t.ingest({ messages: Array.from({ length: 300 }, () => status({ job_id: 'long-snapshot', user_id: 'alice' })) });
      }
      await t.projected();
      const alice = await t.token('alice');
      const negotiated = await (await fetch(`${t.url}/jobs/long-snapshot/signalr/negotiate`, { method: 'POST', headers: { authorization: `Bearer ${alice}` } })).json() as any;
      const fetched = await (await fetch(`${t.url}/jobs/long-snapshot`, { headers: { authorization: `Bearer ${alice}` } })).json() as any;
      for (const history of [negotiated.history, fetched]) {
        expect(history.timeline_events).toHaveLength(500);
        expect(history.timeline_events[0].revision).toBe(101);
        expect(history.timeline_events[499].revision).toBe(600);
        expect(history.meta).toMatchObject({ revision: 600, timeline_from: 101 });
      }
    } finally {
      await t.close();
    }
  });
});
