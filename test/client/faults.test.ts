import { type ConnectionStatus, followJob, type JobFollower, type TransportOption } from '@statuscast/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startTestServer, status, type TestServer } from '../support/testServer.ts';
import { type FaultyProxy, startFaultyProxy } from './support/faultyProxy.ts';

const EVENTS = 500;
const TRANSPORTS: readonly TransportOption[] = ['websockets', 'server-sent-events', 'long-polling', 'sse'];
const range = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

/** A little deterministic randomness, so a failing run can be replayed. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

interface Watched {
  readonly transport: TransportOption;
  readonly follower: JobFollower;
  /** Every revision as `added` delivered it, in delivery order. */
  readonly delivered: number[];
  readonly statuses: ConnectionStatus[];
}

/**
 * Network faults between client and server, on every transport at once: a proxy in the test
 * drops every connection (API calls, hub negotiate, WebSockets, SSE, long polls alike) or
 * stalls it for up to 4 s, about once a second, while 500 statuses are published over ~15 s.
 * The server pings every second and the clients give a silent connection up after 3 s, so
 * long stalls also exercise dead-connection detection. Each follower must deliver revisions
 * 1..500 exactly once and in order.
 */
describe('exactly once through a faulty network', () => {
  let server: TestServer;
  let proxy: FaultyProxy;
  beforeAll(async () => {
    server = await startTestServer({}, { tuning: { sseHeartbeatMs: 1_000, signalr: { keepAliveIntervalMs: 1_000 } } });
    proxy = await startFaultyProxy(server.url);
  });
  afterAll(async () => {
    await proxy.close();
    await server.close();
  });

  it(`delivers revisions 1..${EVENTS} exactly once, in order, on every transport, through drops and stalls`, async () => {
    const jobId = 'job-faults';
    await server.ingest(status({ job_id: jobId, user_id: 'alice', message: 'step 1' }));
    const token = await server.token('alice');
    const watched: Watched[] = TRANSPORTS.map((transport) => {
      const follower = followJob(jobId, { baseUrl: proxy.url, getToken: () => token, transport, serverTimeoutMs: 3_000 });
      const entry: Watched = { transport, follower, delivered: [], statuses: [] };
      follower.subscribe(({ added, connectionChanged }) => {
        entry.delivered.push(...added.map((e) => e.revision));
        if (connectionChanged) entry.statuses.push(follower.connection.status);
      });
      return entry;
    });
    try {
      await eventually(() => watched.every((w) => w.follower.connection.status === 'live'), 15_000, 'every follower live');

      const chance = random(13);
      let publishing = true;
      const faults = (async () => {
        while (publishing) {
          await new Promise((resolve) => setTimeout(resolve, 500 + chance() * 1_000));
          if (!publishing) break;
          if (chance() < 0.5) proxy.dropAll();
          else proxy.stall(200 + Math.floor(chance() * 3_800));
        }
      })();
      for (let revision = 2; revision <= EVENTS; revision++) {
        const answer = await server.ingest(status({ job_id: jobId, user_id: 'alice', message: `step ${revision}` }));
        expect(answer.body.results[0]).toMatchObject({ outcome: 'appended', revision });
        if (revision % 5 === 0) await new Promise((resolve) => setTimeout(resolve, 100));
      }
      publishing = false;
      await faults;

      await eventually(() => watched.every((w) => w.follower.timeline.length >= EVENTS), 90_000, `every follower at ${EVENTS}`);
      for (const w of watched) {
        expect(w.delivered, w.transport).toEqual(range(EVENTS));
        expect(w.follower.timeline.map((e) => e.revision), w.transport).toEqual(range(EVENTS));
        expect(w.follower.latest?.message, w.transport).toBe(`step ${EVENTS}`);
        // The faults really hit every transport: each follower lost its connection and came back.
        expect(w.statuses.filter((s) => s === 'reconnecting').length, w.transport).toBeGreaterThan(2);
      }
      expect(proxy.stats.drops + proxy.stats.stalls).toBeGreaterThan(10);
    } finally {
      for (const w of watched) w.follower.close();
    }
  }, 150_000);
});
