import { followJob, type JobFollower } from '@statuscast/client';
import { afterEach, describe, expect, it } from 'vitest';
import { eventually, startTestServer, status, type TestServer } from '../support/testServer.ts';

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('followJob in Node', () => {
  let server: TestServer | undefined;
  let follower: JobFollower | undefined;
  afterEach(async () => {
    follower?.close();
    await server?.close();
  });

  for (const transport of ['websockets', 'server-sent-events', 'long-polling', 'sse'] as const) {
    it(`delivers the snapshot, then every live revision once, in order (${transport})`, async () => {
      // A long-polling client that just left would hold the server's shutdown for the default 5 s.
      server = await startTestServer({}, { tuning: { signalr: { shutdownTimeoutMs: 300 } } });
      for (let i = 0; i < 3; i++) await server.ingest(status({ job_id: 'job-n', user_id: 'alice' }));
      await server.projected();
      const token = await server.token('alice');
      const seen: number[] = [];
      follower = followJob('job-n', { baseUrl: server.url, getToken: () => token, transport });
      follower.subscribe(({ added }) => seen.push(...added.map((e) => e.revision)));
      await eventually(() => follower!.connection.status === 'live', 10_000, 'live');
      expect(follower.connection.transport).toBe(transport);
      for (let i = 0; i < 5; i++) await server.ingest(status({ job_id: 'job-n', user_id: 'alice' }));
      await eventually(() => follower!.timeline.length === 8, 10_000, '8 revisions');
      expect(seen).toEqual(range(1, 8));
      expect(follower.latest?.revision).toBe(8);
      expect(follower.snapshot?.meta.revision).toBe(3);
    });
  }
});

describe('closing a follower', () => {
  for (const transport of ['websockets', 'sse'] as const) {
    it(`leaves no connection open when closed before its stream opened (${transport})`, async () => {
      const server = await startTestServer();
      try {
        await server.ingest(status({ job_id: 'job-close', user_id: 'alice' }));
        await server.projected();
        const token = await server.token('alice');
        const follower = followJob('job-close', { baseUrl: server.url, getToken: () => token, transport });
        // The snapshot arrives before any stream is opened: close right then.
        await new Promise<void>((resolve) => follower.subscribe(({ snapshotChanged }) => snapshotChanged && resolve()));
        follower.close();
        await new Promise((resolve) => setTimeout(resolve, 1_000));
        const gauge = await server.server.metrics.connections.get();
        expect(gauge.values.reduce((sum, value) => sum + value.value, 0)).toBe(0);
        expect(follower.connection.status).toBe('offline');
      } finally {
        await server.close();
      }
    });
  }
});
