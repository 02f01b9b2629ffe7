import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, status } from '../support/testServer.ts';
import { createTestDatabase, type TestDatabase } from '../support/postgresDatabase.ts';
import { openSse, type SseConnection } from '../support/sseReader.ts';
import { JobWatcher } from '../transports/signalr/support/jobWatcher.ts';
import { HttpTransportType, type HubConnection, buildClient } from '../../packages/signalr-server/test/support/signalrClient.ts';
import { fromTo, oneTo, pause, sseFeedEntries, sseRevisions } from './support/received.ts';
import { type Node, type Nodes, startNodes } from './support/nodes.ts';

/** What every scenario here needs: N real processes on one fresh PostgreSQL database. */
function onPostgres(count: number) {
  const context = {} as { database: TestDatabase; nodes: Nodes; alice: string };
  beforeAll(async () => {
    context.database = await createTestDatabase();
    context.nodes = await startNodes(count, { DATABASE_URL: context.database.url });
    context.alice = await context.nodes.token('alice');
  }, 60_000);
  afterAll(async () => {
    await context.nodes?.close();
    await context.database?.drop();
  }, 30_000);
  return context;
}

/**
 * Ingests `total` single messages through `pickNode`, each retried (same message_id) until
 * some node acknowledges it, as a worker behind a load balancer would. Returns the
 * acknowledged message ids, each with the node that acknowledged it.
 */
async function publish(
  nodes: Nodes,
  jobs: readonly string[],
  tag: string,
  total: number,
  pickNode: (attempt: number) => Node,
): Promise<{ id: string; node: string }[]> {
  const acknowledged: { id: string; node: string }[] = [];
  for (let n = 0; n < total; n++) {
    const message = status({ job_id: jobs[(n * 7 + tag.length) % jobs.length], message_id: `${tag}-${n}` });
    for (let attempt = 0; ; attempt++) {
      const node = pickNode(attempt);
      try {
        await nodes.ingest(node, message);
        acknowledged.push({ id: String(message['message_id']), node: node.name });
        break;
      } catch {
        // Refused (503 on a conflict storm) or the node is gone: try again, maybe elsewhere.
        await pause(20);
      }
    }
    await pause(Math.random() * 6);
  }
  return acknowledged;
}

async function lastRevisionOf(database: TestDatabase, jobId: string): Promise<number> {
  const [row] = await database.sql<{ revision: number }>('SELECT max(revision) AS revision FROM statuscast.events WHERE stream = $1', [`job-${jobId}`]);
  return row!.revision;
}

async function negotiatedHub(node: Node, jobId: string, alice: string) {
  const response = await fetch(`${node.url}/jobs/${jobId}/signalr/negotiate`, { method: 'POST', headers: { authorization: `Bearer ${alice}` } });
  expect(response.status).toBe(200);
  const { accessToken } = (await response.json()) as { accessToken: string };
  const connection = buildClient(`${node.url}/hubs/status`, { transport: HttpTransportType.WebSockets, token: () => accessToken });
  const watcher = new JobWatcher(connection);
  await connection.start();
  return { connection, watcher };
}

describe.each([2, 3])('%i statuscast processes on one PostgreSQL (real server)', (count) => {
  const context = onPostgres(count);

  it('gives clients on every node every event of every node exactly once and in order, while every node ingests', async () => {
    const { nodes, alice } = context;
    const JOBS = ['multi-1', 'multi-2', 'multi-3'];
    let from = '';
    for (const [i, job] of JOBS.entries()) {
      from = (await nodes.ingest(nodes.all[i % count]!, status({ job_id: job }))).results[0]!.position!;
    }
    const auth = { authorization: `Bearer ${alice}` };
    const jobStreams = new Map<string, SseConnection[]>();
    const feeds: SseConnection[] = [];
    const hubs: { connection: HubConnection; watcher: JobWatcher; job: string }[] = [];
    for (const [i, node] of nodes.all.entries()) {
      for (const job of JOBS) {
        const sse = await openSse(`${node.url}/jobs/${job}/events?after=0`, auth);
        expect(sse.status).toBe(200);
        jobStreams.set(job, [...(jobStreams.get(job) ?? []), sse]);
      }
      const feed = await openSse(`${node.url}/events?after=${from}`, auth);
      expect(feed.status).toBe(200);
      feeds.push(feed);
      const job = JOBS[i % JOBS.length]!;
      const hub = await negotiatedHub(node, job, alice);
      await hub.connection.invoke('Subscribe', job, 0);
      hubs.push({ ...hub, job });
    }

    try {
      const acknowledged = (
        await Promise.all(nodes.all.map((node) => publish(nodes, JOBS, `n${count}-${node.name}`, 30, () => node)))
      ).flat();
      for (const node of nodes.all) expect(acknowledged.filter((ack) => ack.node === node.name)).toHaveLength(30);
      expect(acknowledged).toHaveLength(30 * count);

      const heads = new Map<string, number>();
      for (const job of JOBS) heads.set(job, await lastRevisionOf(context.database, job));
      // Each job: JobRegistered at revision 0, then one StatusReported per message.
      expect([...heads.values()].reduce((a, b) => a + b)).toBe(JOBS.length + acknowledged.length);
      const lastRevision = (job: string) => heads.get(job)!;

      for (const job of JOBS) {
        for (const sse of jobStreams.get(job)!) {
          await eventually(() => sseRevisions(sse.events).at(-1) === lastRevision(job), 20_000, `${job} on every node`);
          expect(sseRevisions(sse.events)).toEqual(oneTo(lastRevision(job)));
        }
      }
      for (const { watcher, job } of hubs) {
        await watcher.until(() => watcher.lastRevision(job) === lastRevision(job));
        expect(watcher.revisions(job)).toEqual(oneTo(lastRevision(job)));
      }
      // Every node's feed is the same log: the same events in the same order.
      const expected = acknowledged.length;
      for (const feed of feeds) await eventually(() => sseFeedEntries(feed.events).length === expected, 20_000, 'every feed');
      const first = sseFeedEntries(feeds[0]!.events);
      for (const feed of feeds) expect(sseFeedEntries(feed.events)).toEqual(first);
      for (const job of JOBS) expect(first.filter((e) => e.startsWith(`${job}@`))).toEqual(fromTo(2, lastRevision(job)).map((r) => `${job}@${r}`));

      // Each node projects its own read models from the shared log; all agree.
      for (const node of nodes.all) {
        for (const job of JOBS) {
          const view = await eventually(async () => {
            const found = await nodes.get(node, `/jobs/${job}`, alice);
            return found?.meta?.revision === lastRevision(job) ? found : undefined;
          }, 15_000, `node ${node.name}'s read model of ${job}`);
          expect(view.timeline_events.map((e: { revision: number }) => e.revision)).toEqual(oneTo(lastRevision(job)));
        }
      }
    } finally {
      for (const sse of [...feeds, ...[...jobStreams.values()].flat()]) sse.close();
      await Promise.all(hubs.map((h) => h.connection.stop()));
    }
  }, 120_000);
});

describe('3 statuscast processes on one PostgreSQL (real server), one killed with SIGKILL mid-ingest', () => {
  const context = onPostgres(3);

  it('loses nothing acknowledged, resumes the dead node’s clients on another node without a gap, and a node joining later builds the same read models', async () => {
    const { nodes, alice, database } = context;
    const [a, b, c] = nodes.all as [Node, Node, Node];
    const JOBS = ['kill-1', 'kill-2'];
    let from = '';
    for (const job of JOBS) from = (await nodes.ingest(a, status({ job_id: job }))).results[0]!.position!;
    const auth = { authorization: `Bearer ${alice}` };

    // C's clients: an SSE job stream, the SSE feed, and a SignalR client.
    const jobOnC = await openSse(`${c.url}/jobs/kill-1/events?after=0`, auth);
    const feedOnC = await openSse(`${c.url}/events?after=${from}`, auth);
    const hubOnC = await negotiatedHub(c, 'kill-2', alice);
    await hubOnC.connection.invoke('Subscribe', 'kill-2', 0);
    const hubClosed = new Promise<void>((resolve) => hubOnC.connection.onclose(() => resolve()));

    // Every node ingests; C's publisher moves to A once C is gone, as a load balancer would.
    let cAlive = true;
    let published = false;
    const publishing = Promise.all([
      publish(nodes, JOBS, 'kill-A', 40, () => a),
      publish(nodes, JOBS, 'kill-B', 40, () => b),
      publish(nodes, JOBS, 'kill-C', 40, (attempt) => (cAlive && attempt === 0 ? c : a)),
    ]).finally(() => (published = true));
    await eventually(async () => sseRevisions(jobOnC.events).length >= 8, 20_000, 'some events through C');
    await nodes.kill(c);
    cAlive = false;
    expect(published).toBe(false);

    // C's clients notice and resume on A from what they last received.
    await jobOnC.ended;
    await feedOnC.ended;
    await hubClosed;
    const lastRevision = sseRevisions(jobOnC.events).at(-1)!;
    const jobOnA = await openSse(`${a.url}/jobs/kill-1/events`, { ...auth, 'last-event-id': String(lastRevision) });
    const lastFeedId = feedOnC.events.filter((e) => e.event === 'timeline.event').at(-1)?.id;
    const feedOnA = await openSse(`${a.url}/events${lastFeedId ? '' : `?after=${from}`}`, lastFeedId ? { ...auth, 'last-event-id': lastFeedId } : auth);
    const hubOnA = await negotiatedHub(a, 'kill-2', alice);
    await hubOnA.connection.invoke('Subscribe', 'kill-2', hubOnC.watcher.lastRevision('kill-2'));

    try {
      const acks = (await publishing).flat();
      expect(acks).toHaveLength(120);
      expect(acks.filter((ack) => ack.node === 'C').length).toBeGreaterThan(0);
      const acknowledged = acks.map((ack) => ack.id);
      const stored = await database.sql<{ message_id: string }>(
        "SELECT data->>'message_id' AS message_id FROM statuscast.events WHERE type = 'StatusReported' AND data->>'message_id' LIKE 'kill-%'",
      );
      expect(stored.map((r) => r.message_id).sort()).toEqual([...acknowledged].sort());

      const [head1, head2] = [await lastRevisionOf(database, 'kill-1'), await lastRevisionOf(database, 'kill-2')];
      await eventually(() => sseRevisions(jobOnA.events).at(-1) === head1, 20_000, 'the resumed SSE job stream');
      expect([...sseRevisions(jobOnC.events), ...sseRevisions(jobOnA.events)]).toEqual(oneTo(head1));
      await hubOnA.watcher.until(() => hubOnA.watcher.lastRevision('kill-2') === head2);
      expect([...hubOnC.watcher.revisions('kill-2'), ...hubOnA.watcher.revisions('kill-2')]).toEqual(oneTo(head2));
      await eventually(() => sseFeedEntries(feedOnC.events).length + sseFeedEntries(feedOnA.events).length === 120, 20_000, 'the resumed feed');
      const feed = [...sseFeedEntries(feedOnC.events), ...sseFeedEntries(feedOnA.events)];
      expect(new Set(feed).size).toBe(120);
      expect(feed.filter((e) => e.startsWith('kill-1@'))).toEqual(fromTo(2, head1).map((r) => `kill-1@${r}`));
      expect(feed.filter((e) => e.startsWith('kill-2@'))).toEqual(fromTo(2, head2).map((r) => `kill-2@${r}`));

      // Read models live beside each node: one that joins now, with an empty DATA_DIR, builds
      // its own from the shared log and serves the same views.
      const late = await nodes.add();
      for (const [job, head] of [['kill-1', head1], ['kill-2', head2]] as const) {
        const view = await eventually(async () => {
          const found = await nodes.get(late, `/jobs/${job}`, alice);
          return found?.meta?.revision === head ? found : undefined;
        }, 15_000, `the late node's read model of ${job}`);
        expect(view.timeline_events.map((e: { revision: number }) => e.revision)).toEqual(oneTo(head));
        expect(view).toEqual(await nodes.get(a, `/jobs/${job}`, alice));
      }
    } finally {
      for (const sse of [jobOnC, feedOnC, jobOnA, feedOnA]) sse.close();
      await Promise.all([hubOnC.connection.stop(), hubOnA.connection.stop()]);
    }
  }, 120_000);
});
