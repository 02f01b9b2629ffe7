import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, status, type TestServer } from '../../support/testServer.ts';
import { captureHubSockets } from './support/hubSockets.ts';
import { JobWatcher, range } from './support/jobWatcher.ts';
import { buildClient, HttpTransportType, TRANSPORTS, type HubConnection } from '../../../packages/signalr-server/test/support/signalrClient.ts';
import { negotiateHub } from './support/statuscast.ts';

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('reconnecting without losing or repeating a revision', () => {
  let t: TestServer;
  let alice: string;
  let drops: ReturnType<typeof captureHubSockets>;
  let clients: HubConnection[] = [];

  beforeAll(async () => {
    // Abandoned long-polling connections would hold shutdown for the default 5 s.
    t = await startTestServer({}, { tuning: { signalr: { shutdownTimeoutMs: 300 } } });
    alice = await t.token('alice');
    drops = captureHubSockets(t.server.httpServer);
  });
  afterEach(async () => {
    await Promise.all(clients.map((c) => c.stop()));
    clients = [];
  });
  afterAll(async () => {
    await t.close();
  });

  /** Appends revisions 2..total one by one, breaking every hub socket before the listed ones. */
  async function appendWithDrops(jobId: string, total: number, dropBefore: readonly number[], afterDrop: () => Promise<void>): Promise<void> {
    for (let revision = 2; revision <= total; revision++) {
      if (dropBefore.includes(revision)) {
        // A long-polling client has a socket to break only while a poll is in flight (and none
        // while it is between two reconnect attempts): wait for one rather than drop nothing.
        await expect.poll(() => drops.sockets.some((socket) => !socket.destroyed), { timeout: 5_000 }).toBe(true);
        expect(drops.dropAll()).toBeGreaterThan(0);
        await afterDrop();
      }
      await t.ingest(status({ job_id: jobId }));
      await pause(5);
    }
  }

  it.each(TRANSPORTS)('automatic reconnect over %s: onreconnected resubscribes after the last revision and ends with 1..N once', async (name, transport) => {
    const jobId = `reconnect-${name}`;
    await t.ingest(status({ job_id: jobId }));
    const { accessToken, url } = await negotiateHub(t, alice, jobId);
    const connection = buildClient(url, { transport, token: () => accessToken, automaticReconnect: [0, 0, 50, 100, 200, 500, 1000] });
    clients.push(connection);
    const watcher = new JobWatcher(connection);
    const ids: (string | null)[] = [];
    let reconnected = 0;
    connection.onreconnected(async () => {
      reconnected++;
      ids.push(connection.connectionId);
      await connection.invoke('Subscribe', jobId, watcher.lastRevision(jobId));
    });
    await connection.start();
    ids.push(connection.connectionId);
    await connection.invoke('Subscribe', jobId, null);

    const total = 40;
    // Appends go on while the client is away; the second drop may hit it mid-reconnect.
    await appendWithDrops(jobId, total, [12, 25], async () => undefined);
    await watcher.until(() => watcher.lastRevision(jobId) === total);

    expect(watcher.revisions(jobId)).toEqual(range(1, total));
    expect(reconnected).toBeGreaterThanOrEqual(1);
    expect(new Set(ids).size).toBe(ids.length); // every reconnect negotiated a new connection
  });

  it('stateful reconnect over WebSockets: a broken socket resumes the same connection with every message, without resubscribing', async () => {
    const jobId = 'stateful-1';
    await t.ingest(status({ job_id: jobId }));
    const { accessToken, url } = await negotiateHub(t, alice, jobId);
    const connection = buildClient(url, { transport: HttpTransportType.WebSockets, token: () => accessToken, statefulReconnect: true });
    clients.push(connection);
    const watcher = new JobWatcher(connection);
    let reconnecting = 0;
    let closed = 0;
    connection.onreconnecting(() => reconnecting++);
    connection.onclose(() => closed++);
    await connection.start();
    const connectionId = connection.connectionId;
    const upgradesBefore = drops.upgrades;
    await connection.invoke('Subscribe', jobId, null);

    const total = 40;
    await appendWithDrops(jobId, total, [10, 20, 30], async () => {
      // Append while the socket is down, too: those messages wait in the server's buffer.
      await t.ingest(status({ job_id: jobId }));
    });
    const last = await t.server.store.streamRevision(`job-${jobId}`);
    await watcher.until(() => watcher.lastRevision(jobId) === Number(last));

    expect(watcher.revisions(jobId)).toEqual(range(1, Number(last)));
    expect(watcher.latest.map((l) => l.revision)).toEqual(range(2, Number(last)));
    expect(watcher.bulks).toHaveLength(1);
    expect(reconnecting).toBe(0);
    expect(closed).toBe(0);
    expect(connection.connectionId).toBe(connectionId);
    expect(drops.upgrades).toBeGreaterThanOrEqual(upgradesBefore + 3); // the same connection on new sockets
    // Invocations still work on the resumed connection.
    await expect(connection.invoke('Subscribe', jobId, Number(last))).resolves.toEqual({ job_id: jobId, revision: Number(last) });
  });
});
