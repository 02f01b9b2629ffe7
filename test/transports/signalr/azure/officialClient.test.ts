import { HubConnectionBuilder, HttpTransportType, LogLevel, type HubConnection } from '@microsoft/signalr';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startAzureSignalRStandIn, type AzureSignalRStandIn } from '../../../support/azureSignalRStandIn.ts';
import { eventually, status, type TestServer } from '../../../support/testServer.ts';
import { startAzureTestServer } from './support/azureTestServer.ts';

const ALICE = 'auth0|alice';

interface Entry {
  readonly revision: number;
}

describe('the official @microsoft/signalr client in serverless mode (stand-in service)', () => {
  let standIn: AzureSignalRStandIn;
  let t: TestServer;
  let alice: string;
  const connections: HubConnection[] = [];

  beforeAll(async () => {
    standIn = await startAzureSignalRStandIn();
    t = await startAzureTestServer(standIn);
    alice = await t.token(ALICE);
  });
  afterEach(() => expect(standIn.problems()).toEqual([]));
  afterAll(async () => {
    await Promise.all(connections.map((c) => c.stop()));
    await t.close();
    await standIn.close();
  });

  it('follows the negotiate redirect to the service with the client token, receives the job group, and catches up over HTTP', async () => {
    const jobId = 'az-client-1';
    for (let i = 0; i < 2; i++) expect((await t.ingest(status({ job_id: jobId, user_id: ALICE }))).status).toBe(202);

    // Pointed at statuscast's job negotiate: its {url, accessToken} answer is a redirect to the service.
    const connection = new HubConnectionBuilder()
      .withUrl(`${t.url}/jobs/${jobId}/signalr`, { transport: HttpTransportType.WebSockets, accessTokenFactory: () => alice })
      .configureLogging(LogLevel.None)
      .build();
    connections.push(connection);
    const live: { target: string; revision: number }[] = [];
    connection.on('timeline.event', (argument: { job_id: string; event: Entry }) => live.push({ target: 'timeline.event', revision: argument.event.revision }));
    connection.on('status.latest', (argument: { revision: number }) => live.push({ target: 'status.latest', revision: argument.revision }));
    await connection.start();

    // The redirect reached the stand-in's client endpoint, negotiate first, with the service token.
    expect(standIn.clientRequests[0]).toBe('POST /client/negotiate?hub=status&negotiateVersion=1');
    expect(standIn.clientRequests[1]).toMatch(/^UPGRADE \/client\/\?hub=status&id=/);
    expect(standIn.clientRequests).toHaveLength(2);
    const [negotiateCheck] = standIn.clients.tokenChecks;
    expect(negotiateCheck).toMatchObject({ source: 'header', problems: [], claims: { nameid: ALICE, aud: 'http://127.0.0.1/client/?hub=status' } });
    expect(standIn.clients.connectionsOf(ALICE)).toBe(1);

    for (let i = 0; i < 3; i++) expect((await t.ingest(status({ job_id: jobId, user_id: ALICE }))).status).toBe(202);
    await eventually(() => live.length === 6, 10_000, 'live events through the service');
    expect(live).toEqual([3, 4, 5].flatMap((r) => [{ target: 'timeline.event', revision: r }, { target: 'status.latest', revision: r }]));

    // Contract §5, serverless: what was appended before the connection came up is read by revision.
    const seen = new Set(live.filter((m) => m.target === 'timeline.event').map((m) => m.revision));
    const history = await fetch(`${t.url}/jobs/${jobId}/history?after=0`, { headers: { authorization: `Bearer ${alice}` } }).then((r) => r.json() as Promise<{ events: { revision: number }[] }>);
    for (const event of history.events) seen.add(event.revision);
    expect([...seen].sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5]);
  });

  it('a client without the membership receives nothing: the service routes by user and group', async () => {
    const jobId = 'az-client-2';
    expect((await t.ingest(status({ job_id: jobId, user_id: 'bob' }))).status).toBe(202);
    const bob = await t.token('bob');
    const feed = new HubConnectionBuilder()
      // Bob's feed negotiate: membership of user:bob only.
      .withUrl(`${t.url}/signalr`, { transport: HttpTransportType.WebSockets, accessTokenFactory: () => bob })
      .configureLogging(LogLevel.None)
      .build();
    connections.push(feed);
    const received: string[] = [];
    feed.on('timeline.event', (argument: { job_id: string; position?: string }) => received.push(`${argument.job_id}:${argument.position ? 'feed' : 'job'}`));
    await feed.start();
    expect(standIn.clients.memberships.get('bob')).toEqual(new Map([['user:bob', expect.any(Number)]]));

    expect((await t.ingest(status({ job_id: jobId, user_id: 'bob' }))).status).toBe(202);
    expect((await t.ingest(status({ job_id: 'az-client-1', user_id: ALICE }))).status).toBe(202);
    await eventually(() => received.length === 1, 10_000, 'bob feed event');
    // Let alice's event land too, then check bob got only his feed's copy.
    await eventually(() => standIn.groupSends(`job:az-client-1:user:${ALICE}`).length === 12, 10_000, 'alice sends');
    expect(received).toEqual([`${jobId}:feed`]);
  });
});
