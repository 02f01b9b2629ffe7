import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { LOCK_NAMESPACE } from '../../../../src/store/postgres/migrations.ts';
import { startAzureSignalRStandIn, type AzureSignalRStandIn, type RestCall } from '../../../support/azureSignalRStandIn.ts';
import { createTestDatabase, type TestDatabase } from '../../../support/postgresDatabase.ts';
import { eventually, startTestServer, status, type TestServer } from '../../../support/testServer.ts';
import { FAST_TUNING, metricValue } from './support/azureTestServer.ts';

const jobGroup = (jobId: string) => `job:${jobId}:user:alice`;
const USER_GROUP = 'user:alice';

/** `[target, revision]` of every accepted send to `group` about `jobId`, in arrival order. */
function sends(standIn: AzureSignalRStandIn, group: string, jobId: string): [string, number][] {
  return standIn
    .groupSends(group)
    .filter((call: RestCall) => (call.message!.arguments[0] as { job_id: string }).job_id === jobId)
    .map((call) => {
      const argument = call.message!.arguments[0] as { revision?: number; event?: { revision: number } };
      return [call.message!.target, call.message!.target === 'timeline.event' ? argument.event!.revision : argument.revision!];
    });
}
const pairs = (from: number, to: number): [string, number][] =>
  Array.from({ length: to - from + 1 }, (_, i) => from + i).flatMap((r): [string, number][] => [['timeline.event', r], ['status.latest', r]]);

describe('Azure SignalR with several nodes on one PostgreSQL (stand-in service, real database)', () => {
  let standIn: AzureSignalRStandIn;
  let database: TestDatabase;
  const nodes: TestServer[] = [];

  const startNode = () =>
    startTestServer(
      { AZURE_SIGNALR_CONNECTION_STRING: standIn.connectionString, DATABASE_URL: database.url },
      { tuning: { azureSignalR: { ...FAST_TUNING, leaseSaveIntervalMs: 100 } } },
    ).then((node) => {
      nodes.push(node);
      return node;
    });
  const publishing = async (node: TestServer) => metricValue(node.server.metrics.registry, 'statuscast_azure_signalr_publishing');
  const publisherOf = async (candidates: readonly TestServer[]) => {
    const flags = await Promise.all(candidates.map(publishing));
    return flags.filter((flag) => flag === 1).length === 1 ? candidates[flags.indexOf(1)] : undefined;
  };

  beforeAll(async () => {
    standIn = await startAzureSignalRStandIn();
    database = await createTestDatabase();
  });
  afterEach(() => {
    expect(standIn.problems()).toEqual([]);
  });
  afterAll(async () => {
    await Promise.all(nodes.map((node) => node.close()));
    await standIn?.close();
    await database?.drop();
  });

  it('publishes each event once, not once per node, whichever node ingested it', async () => {
    const [a, b] = [await startNode(), await startNode()];
    const leader = await eventually(() => publisherOf([a, b]), 10_000, 'one node to publish');
    expect(leader).toBeDefined();
    const JOB = 'az-nodes-once';
    expect((await a.ingest(status({ job_id: JOB }))).status).toBe(202);
    for (let i = 0; i < 20; i++) expect((await (i % 2 ? a : b).ingest(status({ job_id: JOB }))).status).toBe(202);
    await eventually(() => sends(standIn, jobGroup(JOB), JOB).length >= 42 && sends(standIn, USER_GROUP, JOB).length >= 42, 10_000, 'every send');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(sends(standIn, jobGroup(JOB), JOB)).toEqual(pairs(1, 21));
    expect(sends(standIn, USER_GROUP, JOB)).toEqual(pairs(1, 21));
    expect(await publishing(a) + (await publishing(b))).toBe(1);
  });

  it('hands publishing over when the publishing node stops, without a gap or a repeat', async () => {
    const [a, b] = nodes as [TestServer, TestServer];
    const leader = (await publisherOf([a, b]))!;
    const other = leader === a ? b : a;
    const JOB = 'az-nodes-stop';
    expect((await other.ingest(status({ job_id: JOB }))).status).toBe(202);
    for (let i = 0; i < 5; i++) expect((await other.ingest(status({ job_id: JOB }))).status).toBe(202);
    await leader.close();
    nodes.splice(nodes.indexOf(leader), 1);
    for (let i = 0; i < 5; i++) expect((await other.ingest(status({ job_id: JOB }))).status).toBe(202);
    await eventually(async () => (await publishing(other)) === 1, 10_000, 'the other node to take over');
    await eventually(() => sends(standIn, jobGroup(JOB), JOB).length >= 22, 10_000, 'every send');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(sends(standIn, jobGroup(JOB), JOB)).toEqual(pairs(1, 11));
    expect(sends(standIn, USER_GROUP, JOB)).toEqual(pairs(1, 11));
  });

  it('hands publishing over when the publisher loses its database connection, without a gap', async () => {
    const joined = await startNode();
    const [first] = nodes.filter((node) => node !== joined) as [TestServer];
    const leader = (await publisherOf([first, joined]))!;
    const other = leader === first ? joined : first;
    const JOB = 'az-nodes-lost';
    expect((await other.ingest(status({ job_id: JOB }))).status).toBe(202);
    for (let i = 0; i < 5; i++) expect((await other.ingest(status({ job_id: JOB }))).status).toBe(202);
    await eventually(() => sends(standIn, jobGroup(JOB), JOB).length >= 12, 10_000, 'the first sends');

    // The lock's session ends, as when the publisher's machine drops off the network.
    const [holder] = await database.sql<{ pid: number }>(
      "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND classid = $1 AND granted",
      [LOCK_NAMESPACE.lease],
    );
    await database.sql('SELECT pg_terminate_backend($1)', [holder!.pid]);
    await eventually(async () => (await publishing(other)) === 1 && (await publishing(leader)) === 0, 10_000, 'the other node to take over');
    for (let i = 0; i < 5; i++) expect((await other.ingest(status({ job_id: JOB }))).status).toBe(202);
    await eventually(() => new Set(sends(standIn, jobGroup(JOB), JOB).map(([, r]) => r)).size === 11, 10_000, 'every revision');
    await new Promise((resolve) => setTimeout(resolve, 300));
    for (const group of [jobGroup(JOB), USER_GROUP]) {
      const delivered = sends(standIn, group, JOB);
      // Everything reached the group; what came after the takeover came once.
      expect([...new Set(delivered.map(([, r]) => r))].sort((x, y) => x - y)).toEqual(Array.from({ length: 11 }, (_, i) => i + 1));
      expect(delivered.filter(([, r]) => r > 6)).toEqual(pairs(7, 11));
    }
  });
});
