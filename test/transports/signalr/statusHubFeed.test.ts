import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, status, type TestServer } from '../../support/testServer.ts';
import { JobWatcher } from './support/jobWatcher.ts';
import { buildClient, HttpTransportType, type HubConnection } from '../../../packages/signalr-server/test/support/signalrClient.ts';
import { dispatched, negotiateHub } from './support/statuscast.ts';

describe('SubscribeFeed on the real server', () => {
  let t: TestServer;
  let alice: string;
  let clients: HubConnection[] = [];

  beforeAll(async () => {
    t = await startTestServer({}, { tuning: { signalr: { shutdownTimeoutMs: 300 } } });
    alice = await t.token('alice');
  });
  afterEach(async () => {
    await Promise.all(clients.map((c) => c.stop()));
    clients = [];
  });
  afterAll(async () => {
    await t.close();
  });

  async function feedClient(transport: HttpTransportType) {
    const { url, accessToken, groups } = await negotiateHub(t, alice);
    expect(groups).toEqual(['user:alice']);
    const connection = buildClient(url, { transport, token: () => accessToken });
    clients.push(connection);
    const watcher = new JobWatcher(connection);
    await connection.start();
    return { connection, watcher };
  }

  it.each([
    ['WebSockets', HttpTransportType.WebSockets],
    ['LongPolling', HttpTransportType.LongPolling],
  ])('follows the caller\'s jobs live with positions over %s, and resumes by position with per-job bulks', async (name, transport) => {
    const [a, b, c] = ['a', 'b', 'c'].map((x) => `feed-${name}-${x}`);
    // On an empty store the feed has no position yet (the Completion then says null).
    await t.ingest(status({ job_id: `feed-${name}-earlier` }));
    await dispatched(t);
    const live = await feedClient(transport);
    const { position: start } = (await live.connection.invoke('SubscribeFeed', null)) as { position: string | null };
    expect(start).toEqual(expect.any(String));

    await t.ingest(status({ job_id: a }));
    await t.ingest(status({ job_id: b, user_id: 'bob' }));
    await t.ingest(status({ job_id: c }));
    await t.ingest(status({ job_id: a }));
    await live.watcher.until(() => live.watcher.latest.length === 3);
    expect(live.watcher.events.map((e) => [e.job_id, e.event.revision])).toEqual([[a, 1], [c, 1], [a, 2]]);
    const positions = live.watcher.events.map((e) => BigInt(e.position!));
    expect([...positions].sort((x, y) => (x < y ? -1 : 1))).toEqual(positions);
    expect(positions[0]! > BigInt(start!)).toBe(true);
    expect(live.watcher.bulks).toEqual([]);

    const resumed = await feedClient(transport);
    const result = (await resumed.connection.invoke('SubscribeFeed', start)) as { position: string };
    expect(BigInt(result.position) >= positions.at(-1)!).toBe(true);
    expect(resumed.watcher.bulks.map((bulk) => [bulk.job_id, bulk.events.map((e) => e.revision), bulk.meta])).toEqual([
      [a, [1, 2], { from_revision: 1, to_revision: 2 }],
      [c, [1], { from_revision: 1, to_revision: 1 }],
    ]);
    await t.ingest(status({ job_id: c }));
    await resumed.watcher.until(() => resumed.watcher.events.length === 1);
    expect(resumed.watcher.events[0]).toMatchObject({ job_id: c, event: { revision: 2 }, position: expect.any(String) });
  });
});
