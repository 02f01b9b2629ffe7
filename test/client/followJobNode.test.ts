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
      server = await startTestServer();
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
