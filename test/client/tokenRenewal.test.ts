import { type ConnectionStatus, followJob, type JobFollower, type TransportOption } from '@statuscast/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startTestServer, status, type TestServer } from '../support/testServer.ts';

const TRANSPORTS: readonly TransportOption[] = ['websockets', 'server-sent-events', 'long-polling', 'sse'];
const STREAM_MS = 120_000;
const range = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

interface Watched {
  readonly transport: TransportOption;
  readonly follower: JobFollower;
  readonly delivered: number[];
  /** Every connection status the follower published, in order. */
  readonly statuses: ConnectionStatus[];
  negotiations: number;
}

/**
 * The one long test (2 minutes): 30-second stream tokens (the shortest the service issues)
 * during a 2-minute stream. A shorter stream would renew once or twice; this one renews
 * about five times per follower, on every transport at once. The follower renews before the
 * token expires by opening the next connection before closing the old one, so the stream
 * shows no gap, no duplicate and no reconnect: its connection status never leaves `live`.
 */
describe('stream-token renewal during a long stream', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ STREAM_TOKEN_TTL_SECONDS: '30' });
  });
  afterAll(async () => {
    await server.close();
  });

  it('30 s tokens for 2 minutes: every revision once, in order, no reconnect visible, on every transport', async () => {
    const jobId = 'job-renewal';
    await server.ingest(status({ job_id: jobId, user_id: 'alice' }));
    const token = await server.token('alice');
    const watched: Watched[] = TRANSPORTS.map((transport) => {
      const entry: Watched = { transport, follower: undefined as unknown as JobFollower, delivered: [], statuses: [], negotiations: 0 };
      const counting: typeof fetch = (input, init) => {
        if (init?.method === 'POST' && String(input).endsWith('/signalr/negotiate')) entry.negotiations++;
        return fetch(input, init);
      };
      const follower = followJob(jobId, { baseUrl: server.url, getToken: () => token, transport, fetch: counting });
      follower.subscribe(({ added, connectionChanged }) => {
        entry.delivered.push(...added.map((e) => e.revision));
        if (connectionChanged) entry.statuses.push(follower.connection.status);
      });
      return Object.assign(entry, { follower });
    });
    try {
      await eventually(() => watched.every((w) => w.follower.connection.status === 'live'), 15_000, 'every follower live');
      const end = Date.now() + STREAM_MS;
      let revision = 1;
      while (Date.now() < end) {
        revision++;
        const answer = await server.ingest(status({ job_id: jobId, user_id: 'alice' }));
        expect(answer.body.results[0]).toMatchObject({ outcome: 'appended', revision });
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
      await eventually(() => watched.every((w) => w.follower.timeline.length >= revision), 15_000, `every follower at ${revision}`);
      for (const w of watched) {
        expect(w.delivered, w.transport).toEqual(range(revision));
        // Connecting, then live for good: no reconnecting, no offline, in between or after.
        expect(w.statuses.filter((s) => s !== 'connecting' && s !== 'live'), w.transport).toEqual([]);
        expect(w.follower.connection.status, w.transport).toBe('live');
        // The first negotiate and one renewal per ~22 s of a 30 s token.
        expect(w.negotiations, w.transport).toBeGreaterThanOrEqual(5);
      }
      // Each renewal closed the connection it replaced: one open connection per follower.
      const gauge = await server.server.metrics.connections.get();
      expect(gauge.values.reduce((sum, value) => sum + value.value, 0)).toBe(TRANSPORTS.length);
    } finally {
      for (const w of watched) w.follower.close();
    }
  }, STREAM_MS + 60_000);
});
