import { EventSource } from 'eventsource';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestServer, eventually, startTestServer, status } from '../../support/testServer.ts';
import { openSse } from '../../support/sseReader.ts';

/** Revisions a connection delivered, in arrival order (bulk entries, then live events). */
function revisions(events: readonly { event: string; data: string }[]): number[] {
  return events.flatMap((e) => {
    if (e.event === 'timeline.event') return [JSON.parse(e.data).event.revision as number];
    if (e.event === 'timeline.bulk') return (JSON.parse(e.data).events as { revision: number }[]).map((x) => x.revision);
    return [];
  });
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

describe('SSE churn: clients that keep dropping and resuming', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(async () => {
    await t.close();
  });

  it('12 clients resuming by Last-Event-ID while 320 events are appended each end with 1..N exactly once, in order', async () => {
    const JOB = 'churn-1';
    const TOTAL = 320;
    const alice = await t.token('alice');
    await t.ingest(status({ job_id: JOB }));

    let appended = 1;
    const appender = (async () => {
      while (appended < TOTAL) {
        const batch = Math.min(1 + Math.floor(Math.random() * 4), TOTAL - appended);
        const answer = await t.ingest({ messages: Array.from({ length: batch }, () => status({ job_id: JOB })) });
        expect(answer.status).toBe(202);
        appended += batch;
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 8));
      }
    })();

    async function client(index: number): Promise<{ delivered: number[]; connections: number }> {
      const delivered: number[] = [];
      let lastId: string | undefined;
      let connections = 0;
      while (true) {
        // A client may see the last event before the appender sees its 202: the last
        // revision delivered is what says it is done.
        if (delivered[delivered.length - 1] === TOTAL) return { delivered, connections };
        connections++;
        const headers: Record<string, string> = { authorization: `Bearer ${alice}` };
        if (lastId !== undefined) headers['last-event-id'] = lastId;
        // Half the clients start their first connection with ?after=0, the others with nothing.
        const query = connections === 1 && index % 2 === 0 ? '?after=0' : '';
        const sse = await openSse(`${t.url}/jobs/${JOB}/events${query}`, headers);
        expect(sse.status).toBe(200);
        if (appended >= TOTAL) {
          // Everything is appended: this connection must bring the client to the end.
          await eventually(() => revisions(sse.events).includes(TOTAL), 10_000, `client ${index} to reach ${TOTAL}`);
        } else {
          // Stay connected for a random number of events, then drop.
          await sse.waitForEvents(1 + Math.floor(Math.random() * 6), undefined, 2_000).catch(() => undefined);
        }
        sse.close();
        await sse.ended;
        delivered.push(...revisions(sse.events));
        // Resume from the last id the stream handed out (bulk id or a timeline.event id).
        const withId = sse.events.filter((e) => e.id !== undefined);
        if (withId.length > 0) lastId = withId[withId.length - 1]!.id;
      }
    }

    const results = await Promise.all(range(12).map((i) => client(i)));
    await appender;
    for (const { delivered, connections } of results) {
      expect(connections).toBeGreaterThan(3);
      expect(delivered).toEqual(range(TOTAL));
    }
    await eventually(() => t.server.liveFeed.subscriberCount === 0, 5000, 'subscriptions to be released');
  }, 120_000);

  it('standard EventSource clients survive the server dropping every connection, ending with 1..N exactly once', async () => {
    const JOB = 'churn-2';
    const TOTAL = 151; // 1 + 30 batches of 5
    const alice = await t.token('alice');
    await t.ingest(status({ job_id: JOB }));
    const clients = range(10).map(() => {
      const delivered: number[] = [];
      const source = new EventSource(`${t.url}/jobs/${JOB}/events`, {
        fetch: (input, init) => fetch(input, { ...init, headers: { ...init?.headers, authorization: `Bearer ${alice}` } }),
      });
      source.addEventListener('timeline.bulk', (e) => delivered.push(...revisions([{ event: 'timeline.bulk', data: e.data }])));
      source.addEventListener('timeline.event', (e) => delivered.push(JSON.parse(e.data).event.revision));
      return { source, delivered };
    });
    // Drop only the event-stream sockets, as a proxy or a flaky network would.
    const streamSockets = new Set<import('node:net').Socket>();
    const track = (req: import('node:http').IncomingMessage) => {
      if (req.url?.includes('/events')) streamSockets.add(req.socket);
    };
    t.server.httpServer.on('request', track);
    let appended = 1;
    let drops = 0;
    while (appended < TOTAL) {
      await t.ingest({ messages: Array.from({ length: 5 }, () => status({ job_id: JOB })) });
      appended += 5;
      if (appended % 25 === 1) {
        for (const socket of streamSockets) socket.destroy();
        streamSockets.clear();
        drops++;
      }
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await eventually(() => clients.every((c) => c.delivered[c.delivered.length - 1] === TOTAL), 30_000, 'every client to catch up');
    for (const { source, delivered } of clients) {
      source.close();
      expect(delivered).toEqual(range(TOTAL));
    }
    expect(drops).toBeGreaterThanOrEqual(5);
    t.server.httpServer.off('request', track);
  }, 120_000);
});
