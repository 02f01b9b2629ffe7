import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createStreamTokens, loadStreamTokenSecret } from '../../../src/auth/streamTokens.ts';
import { groupNames } from '../../../src/transports/groups.ts';
import { startTestServer, status, type TestServer } from '../../support/testServer.ts';
import { JobWatcher } from './support/jobWatcher.ts';
import { buildClient, TRANSPORTS, type HubConnection } from '../../../packages/signalr-server/test/support/signalrClient.ts';

describe('token expiry', () => {
  let t: TestServer;
  let clients: HubConnection[] = [];
  /** Stream tokens signed with the server's own secret, with a lifetime too short for negotiate to hand out. */
  let shortLived: (jobId: string, seconds: number) => Promise<string>;

  beforeAll(async () => {
    // A client whose token expired cannot DELETE its long-polling connection (401), so the
    // server forgets it after the disconnect timeout; keep that short here.
    t = await startTestServer({}, { tuning: { signalr: { heartbeatIntervalMs: 100, disconnectTimeoutMs: 500, shutdownTimeoutMs: 300 } } });
    const secret = loadStreamTokenSecret(undefined, t.dataDir);
    shortLived = async (jobId, seconds) => {
      const tokens = createStreamTokens(secret, seconds);
      const principal = { userId: 'alice', roles: new Set<string>(), tokenKind: 'user' as const, groups: null, expiresAt: null };
      return (await tokens.issue(principal, [groupNames.job(jobId, 'alice')])).token;
    };
  });
  afterEach(async () => {
    await Promise.all(clients.map((c) => c.stop()));
    clients = [];
  });
  afterAll(async () => {
    await t.close();
  });

  it.each(TRANSPORTS)('closes a %s connection with Close(allowReconnect) when its token expires', async (name, transport) => {
    const jobId = `expiry-${name}`;
    await t.ingest(status({ job_id: jobId }));
    const token = await shortLived(jobId, 2);
    const connection = buildClient(`${t.url}/hubs/status`, { transport, token: () => token });
    clients.push(connection);
    const closed = new Promise<Error | undefined>((resolve) => connection.onclose(resolve));
    await connection.start();
    await connection.invoke('Subscribe', jobId, null);

    const error = await closed;
    expect(error?.message).toBe('Server returned an error on close: Token expired.');
    await expect.poll(() => t.server.signalr.connectionCount, { timeout: 5_000 }).toBe(0);
  });

  it('lets a client with automatic reconnect come back with a fresh token and resume', async () => {
    const jobId = 'expiry-resume';
    await t.ingest(status({ job_id: jobId }));
    let token = await shortLived(jobId, 2);
    const fresh = await shortLived(jobId, 600);
    const connection = buildClient(`${t.url}/hubs/status`, {
      transport: TRANSPORTS[0][1],
      token: () => token,
      automaticReconnect: [0, 100, 500],
    });
    clients.push(connection);
    // The application would re-negotiate here; the new token arrives with the reconnect.
    connection.onreconnecting(() => (token = fresh));
    const watcher = new JobWatcher(connection);
    const reconnected = new Promise<void>((resolve) =>
      connection.onreconnected(async () => {
        await connection.invoke('Subscribe', jobId, watcher.lastRevision(jobId));
        resolve();
      }),
    );
    await connection.start();
    await connection.invoke('Subscribe', jobId, null);
    await reconnected;
    await t.ingest(status({ job_id: jobId }));
    await watcher.until(() => watcher.lastRevision(jobId) === 2);
    expect(watcher.revisions(jobId)).toEqual([1, 2]);
  });
});
