import { HubConnectionBuilder, HttpTransportType, LogLevel, type HubConnection } from '@microsoft/signalr';
import { decodeJwt } from 'jose';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Principal } from '../../../../src/auth/principal.ts';
import { createMetrics } from '../../../../src/observability/metrics.ts';
import { groupNames } from '../../../../src/transports/groups.ts';
import { type AzureSignalR, createAzureSignalR, parseAzureSignalRConnectionString } from '../../../../src/transports/signalr/azure/index.ts';
import { startAzureSignalRStandIn, type AzureSignalRStandIn } from '../../../support/azureSignalRStandIn.ts';
import { eventually, startTestServer, status, type TestServer } from '../../../support/testServer.ts';
import { FAST_TUNING } from './support/azureTestServer.ts';

const ALICE = 'alice';

/**
 * Who stays in a group on the real service. A membership's TTL governs only connections opened
 * later: an open connection keeps its groups, and the service closes it at the client token's
 * expiry only when the token carries `asrs.s.coae`/`asrs.s.aeo` (the stand-in models both,
 * see `azureSignalRStandInClients.ts`). So an expired or revoked user keeps receiving unless
 * statuscast asks for the close and removes memberships itself.
 */
describe('Azure SignalR memberships end when access ends (stand-in service)', () => {
  let standIn: AzureSignalRStandIn;
  let t: TestServer;
  let azure: AzureSignalR;
  const connections: HubConnection[] = [];

  beforeEach(async () => {
    standIn = await startAzureSignalRStandIn();
    // The embedded server provides the store, the live feed and stream tokens; the Azure parts
    // are built here so that the test can mint short-lived tokens and reach `revokeAccess`.
    t = await startTestServer();
    azure = createAzureSignalR({
      connection: parseAzureSignalRConnectionString(standIn.connectionString),
      liveFeed: t.server.liveFeed,
      logger: pino({ level: 'silent' }),
      metrics: createMetrics({ defaultMetrics: false }),
      tuning: FAST_TUNING,
    });
    await azure.start();
  });
  afterEach(async () => {
    await Promise.all(connections.splice(0).map((c) => c.stop()));
    await azure.stop();
    await t.close();
    expect(standIn.problems()).toEqual([]);
    await standIn.close();
  });

  async function connect(jobId: string, ttlSeconds: number) {
    const principal: Principal = { userId: ALICE, roles: new Set(), tokenKind: 'user', groups: null, expiresAt: null };
    const groups = [groupNames.job(jobId, ALICE)];
    const { createStreamTokens, loadStreamTokenSecret } = await import('../../../../src/auth/streamTokens.ts');
    const { token } = await createStreamTokens(loadStreamTokenSecret(undefined, t.dataDir), ttlSeconds).issue(principal, groups);
    const grant = await azure.hubEndpoint.negotiate({ principal, groups, baseUrl: t.url, streamToken: token });
    const connection = new HubConnectionBuilder()
      .withUrl(grant.url, { transport: HttpTransportType.WebSockets, accessTokenFactory: () => grant.accessToken })
      .configureLogging(LogLevel.None)
      .build();
    connections.push(connection);
    const received: number[] = [];
    connection.on('timeline.event', (argument: { event: { revision: number } }) => received.push(argument.event.revision));
    const closed = new Promise<Error | undefined>((resolve) => connection.onclose(resolve));
    await connection.start();
    return { connection, received, closed, grant };
  }

  it('asks the service to close the connection when the client token expires, so nothing arrives after it', async () => {
    const jobId = 'az-expiring';
    await t.ingest(status({ job_id: jobId, user_id: ALICE }));
    const { received, closed, grant } = await connect(jobId, 2);

    await t.ingest(status({ job_id: jobId, user_id: ALICE }));
    await eventually(() => received.includes(2), 10_000, 'revision 2 while the token is valid');
    const outcome = await Promise.race([closed.then(() => 'closed'), new Promise((resolve) => setTimeout(() => resolve('still open'), 5_000))]);
    expect(outcome).toBe('closed');
    await t.ingest(status({ job_id: jobId, user_id: ALICE }));
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(received).toEqual([2]);
    const claims = decodeJwt(grant.accessToken);
    expect(claims).toMatchObject({ 'asrs.s.coae': 'true', 'asrs.s.aeo': String(claims.exp) });
  }, 15_000);

  it('revokeAccess removes the membership: an open connection stops receiving the group', async () => {
    const jobId = 'az-revoked';
    await t.ingest(status({ job_id: jobId, user_id: ALICE }));
    const { received } = await connect(jobId, 600);
    await t.ingest(status({ job_id: jobId, user_id: ALICE }));
    await eventually(() => received.includes(2), 10_000, 'revision 2');

    await azure.revokeAccess(ALICE, [groupNames.job(jobId, ALICE)]);
    expect(standIn.calls.filter((c) => c.route.kind === 'remove-user-from-group').map((c) => c.status)).toEqual([200]);
    await t.ingest(status({ job_id: jobId, user_id: ALICE }));
    await eventually(() => standIn.groupSends(groupNames.job(jobId, ALICE)).length === 6, 10_000, 'the sends of revision 3');
    expect(received).toEqual([2]);
    expect(standIn.clients.groupsOfConnections(ALICE)).toEqual([[]]);
  });
});
