import { type FeedFollower, followJobs, type TransportOption } from '@statuscast/client';
import { afterEach, describe, expect, it } from 'vitest';
import { eventually, startTestServer, status, type TestServer } from '../support/testServer.ts';
import { type FaultyProxy, startFaultyProxy } from './support/faultyProxy.ts';

describe('followJobs in Node', () => {
  let server: TestServer | undefined;
  let proxy: FaultyProxy | undefined;
  let feed: FeedFollower | undefined;
  afterEach(async () => {
    feed?.close();
    await proxy?.close();
    await server?.close();
    feed = undefined;
    proxy = undefined;
  });

  const publish = (jobId: string, user = 'alice', overrides: Record<string, unknown> = {}) =>
    server!.ingest(status({ job_id: jobId, user_id: user, ...overrides }));

  for (const transport of ['websockets', 'sse'] as const satisfies readonly TransportOption[]) {
    it(`lists the caller's jobs newest first, then follows them live (${transport})`, async () => {
      server = await startTestServer();
      await publish('job-a');
      await publish('job-bob', 'bob');
      await publish('job-b');
      await server.projected();
      const token = await server.token('alice');
      feed = followJobs({ baseUrl: server.url, getToken: () => token, transport });
      await eventually(() => feed!.loaded && feed!.connection.status === 'live', 10_000, 'loaded and live');
      expect(feed.jobs.map((job) => job.job_id)).toEqual(['job-b', 'job-a']);
      expect(feed.jobs[0]).toMatchObject({ owner: 'alice', revision: 1 });

      await publish('job-a', 'alice', { state: 'succeeded' });
      await publish('job-c');
      await publish('job-bob', 'bob');
      await eventually(() => feed!.jobs.length === 3 && feed!.jobs[2]?.latest?.state === 'succeeded', 10_000, 'the live changes');
      expect(feed.jobs.map((job) => [job.job_id, job.revision])).toEqual([
        ['job-c', 1],
        ['job-b', 1],
        ['job-a', 2],
      ]);
      expect(feed.position).not.toBeNull();
    });

    it(`reloads the list and follows on when its resume point is too old to replay (${transport})`, async () => {
      server = await startTestServer({}, { tuning: { liveFeed: { maxFeedCatchUpScan: 5 }, sseHeartbeatMs: 500, signalr: { keepAliveIntervalMs: 500 } } });
      proxy = await startFaultyProxy(server.url);
      await publish('job-a');
      await server.projected();
      const token = await server.token('alice');
      let listed = 0;
      const counting: typeof fetch = (input, init) => {
        if (/\/jobs\?limit=/.test(String(input))) listed++;
        return fetch(input, init);
      };
      feed = followJobs({ baseUrl: proxy.url, getToken: () => token, transport, fetch: counting, serverTimeoutMs: 2_000 });
      await eventually(() => feed!.connection.status === 'live', 10_000, 'live');
      const before = feed.position;

      // Cut off for a while; meanwhile more happens than the feed may replay (5 events).
      proxy.stall(4_000);
      await eventually(() => feed!.connection.status === 'reconnecting', 10_000, 'the loss noticed');
      for (let i = 0; i < 8; i++) await publish('job-b');
      await publish('job-a', 'alice', { state: 'failed' });
      await server.projected();

      await eventually(() => feed!.connection.status === 'live' && feed!.jobs.length === 2 && listed >= 2, 20_000, 'reloaded and live again');
      expect(feed.jobs.map((job) => [job.job_id, job.revision, job.latest?.state])).toEqual([
        ['job-b', 8, 'running'],
        ['job-a', 2, 'failed'],
      ]);
      expect(feed.position).not.toBe(before);
      // And it follows live from the reloaded list's position.
      await publish('job-c');
      await eventually(() => feed!.jobs[0]?.job_id === 'job-c', 10_000, 'the next job');
    }, 45_000);
  }
});
