import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Jwks } from '../../src/audit/auditKeys.ts';
import { verifyExportLines } from '../../src/audit/verifyExport.ts';
import { openSse } from '../support/sseReader.ts';
import { eventually, status } from '../support/testServer.ts';
import { JobWatcher } from '../transports/signalr/support/jobWatcher.ts';
import { HttpTransportType, type HubConnection, buildClient } from '../../packages/signalr-server/test/support/signalrClient.ts';
import { oneTo, pause, sseRevisions } from './support/received.ts';
import { type Node, type TwoNodes, startTwoNodes } from './support/twoNodes.ts';

/** The hub URL a negotiate answer named, moved to `node` (a load balancer could route either way). */
const hubOn = (node: Node, url: string) => `${node.url}${new URL(url).pathname}${new URL(url).search}`;

describe('two statuscast processes on one EventStoreDB (stand-in)', () => {
  let nodes: TwoNodes;
  let alice: string;
  let hubs: HubConnection[] = [];

  beforeAll(async () => {
    nodes = await startTwoNodes();
    alice = await nodes.token('alice');
  }, 60_000);
  afterEach(async () => {
    await Promise.all(hubs.map((c) => c.stop()));
    hubs = [];
  });
  afterAll(async () => {
    await nodes?.close();
  }, 30_000);

  async function negotiate(node: Node, jobId: string) {
    const response = await fetch(`${node.url}/jobs/${jobId}/signalr/negotiate`, { method: 'POST', headers: { authorization: `Bearer ${alice}` } });
    expect(response.status).toBe(200);
    return (await response.json()) as { url: string; accessToken: string; history: { meta: { revision: number } } };
  }

  async function hubClient(url: string, accessToken: string, transport: HttpTransportType) {
    const connection = buildClient(url, { transport, token: () => accessToken });
    hubs.push(connection);
    const watcher = new JobWatcher(connection);
    await connection.start();
    return { connection, watcher };
  }

  it('clients on node B (SSE, SignalR) receive exactly once and in order what is ingested through node A; B\'s read models catch up', async () => {
    const JOB = 'scale-b-follows-a';
    const TOTAL = 60;
    await nodes.ingest(nodes.a, status({ job_id: JOB }));

    const sse = await openSse(`${nodes.b.url}/jobs/${JOB}/events?after=0`, { authorization: `Bearer ${alice}` });
    expect(sse.status).toBe(200);
    // A stream token minted by node A (shared STREAM_TOKEN_SECRET), used on node B's hub …
    const fromA = await negotiate(nodes.a, JOB);
    const viaA = await hubClient(hubOn(nodes.b, fromA.url), fromA.accessToken, HttpTransportType.WebSockets);
    await viaA.connection.invoke('Subscribe', JOB, fromA.history.meta.revision);
    // … and one negotiated on B itself, over long polling.
    const fromB = await negotiate(nodes.b, JOB);
    const onB = await hubClient(fromB.url, fromB.accessToken, HttpTransportType.LongPolling);
    await onB.connection.invoke('Subscribe', JOB, 0);

    let appended = 1;
    while (appended < TOTAL) {
      const batch = Math.min(1 + (appended % 4), TOTAL - appended);
      const answer = await nodes.ingest(nodes.a, { messages: Array.from({ length: batch }, () => status({ job_id: JOB })) });
      expect(answer.results.every((r) => r.outcome === 'appended')).toBe(true);
      appended += batch;
    }

    await eventually(() => sseRevisions(sse.events).at(-1) === TOTAL, 15_000, 'the SSE client on B to reach the end');
    await viaA.watcher.until(() => viaA.watcher.lastRevision(JOB) === TOTAL);
    await onB.watcher.until(() => onB.watcher.lastRevision(JOB) === TOTAL);
    sse.close();
    expect(sseRevisions(sse.events)).toEqual(oneTo(TOTAL));
    // The snapshot from A's read model plus the live events from B, without overlap or gap.
    expect([...oneTo(fromA.history.meta.revision), ...viaA.watcher.revisions(JOB)]).toEqual(oneTo(TOTAL));
    expect(onB.watcher.revisions(JOB)).toEqual(oneTo(TOTAL));
    expect(onB.watcher.latest.at(-1)).toMatchObject({ job_id: JOB, revision: TOTAL });

    // Node B rebuilds its own read models from the store: its job view reaches the head too.
    const view = await eventually(async () => {
      const job = await nodes.get(nodes.b, `/jobs/${JOB}`, alice);
      return job?.meta?.revision === TOTAL ? job : undefined;
    }, 15_000, "B's read model to catch up");
    expect(view).toMatchObject({ job_id: JOB, meta: { owner: 'alice', revision: TOTAL }, latest_status: { revision: TOTAL } });
    const list = await nodes.get(nodes.b, '/jobs', alice);
    expect(list.jobs.map((j: { job_id: string }) => j.job_id)).toContain(JOB);
  });

  it('churn: SSE clients resuming by Last-Event-ID on alternating nodes while both nodes append each end with 1..N exactly once', async () => {
    const JOB = 'scale-churn-sse';
    const TOTAL = 160;
    await nodes.ingest(nodes.a, status({ job_id: JOB }));
    let appended = 1;
    const appender = (async () => {
      for (let i = 0; appended < TOTAL; i++) {
        const batch = Math.min(1 + Math.floor(Math.random() * 4), TOTAL - appended);
        // Alternate the ingesting node: each one's cached job state goes stale and is re-read on conflict.
        await nodes.ingest(i % 2 === 0 ? nodes.a : nodes.b, { messages: Array.from({ length: batch }, () => status({ job_id: JOB })) });
        appended += batch;
        await pause(Math.random() * 8);
      }
    })();

    async function client(index: number): Promise<{ delivered: number[]; connections: number }> {
      const delivered: number[] = [];
      let lastId: string | undefined;
      let connections = 0;
      while (delivered.at(-1) !== TOTAL) {
        connections++;
        const node = (index + connections) % 2 === 0 ? nodes.a : nodes.b;
        const headers: Record<string, string> = { authorization: `Bearer ${alice}` };
        if (lastId !== undefined) headers['last-event-id'] = lastId;
        const sse = await openSse(`${node.url}/jobs/${JOB}/events${connections === 1 ? '?after=0' : ''}`, headers);
        expect(sse.status).toBe(200);
        if (appended >= TOTAL) await eventually(() => sseRevisions(sse.events).includes(TOTAL), 15_000, `client ${index} to reach ${TOTAL}`);
        else await sse.waitForEvents(1 + Math.floor(Math.random() * 6), undefined, 2_000).catch(() => undefined);
        sse.close();
        await sse.ended;
        delivered.push(...sseRevisions(sse.events));
        const withId = sse.events.filter((e) => e.id !== undefined);
        if (withId.length > 0) lastId = withId.at(-1)!.id;
      }
      return { delivered, connections };
    }

    const results = await Promise.all(oneTo(8).map((i) => client(i)));
    await appender;
    for (const { delivered, connections } of results) {
      expect(connections).toBeGreaterThan(3);
      expect(delivered).toEqual(oneTo(TOTAL));
    }
  }, 120_000);

  it('churn: official SignalR clients resuming by revision on alternating nodes each end with 1..N exactly once', async () => {
    const JOB = 'scale-churn-signalr';
    const TOTAL = 100;
    await nodes.ingest(nodes.b, status({ job_id: JOB }));
    const { accessToken } = await negotiate(nodes.a, JOB);
    let appended = 1;
    const appender = (async () => {
      for (let i = 0; appended < TOTAL; i++) {
        const batch = Math.min(1 + Math.floor(Math.random() * 3), TOTAL - appended);
        await nodes.ingest(i % 2 === 0 ? nodes.b : nodes.a, { messages: Array.from({ length: batch }, () => status({ job_id: JOB })) });
        appended += batch;
        await pause(5 + Math.random() * 10);
      }
    })();

    async function client(index: number): Promise<{ delivered: number[]; connections: number }> {
      const delivered: number[] = [];
      let connections = 0;
      while (delivered.at(-1) !== TOTAL) {
        connections++;
        const node = (index + connections) % 2 === 0 ? nodes.a : nodes.b;
        const transport = index % 2 === 0 ? HttpTransportType.WebSockets : HttpTransportType.ServerSentEvents;
        const { connection, watcher } = await hubClient(`${node.url}/hubs/status`, accessToken, transport);
        await connection.invoke('Subscribe', JOB, delivered.at(-1) ?? 0);
        if (appended >= TOTAL) await watcher.until(() => watcher.lastRevision(JOB) === TOTAL);
        else await watcher.until(() => watcher.revisions(JOB).length >= 1 + Math.floor(Math.random() * 6), 2_000).catch(() => undefined);
        await connection.stop();
        hubs.splice(hubs.indexOf(connection), 1);
        delivered.push(...watcher.revisions(JOB));
      }
      return { delivered, connections };
    }

    const results = await Promise.all(oneTo(4).map((i) => client(i)));
    await appender;
    for (const { delivered, connections } of results) {
      expect(connections).toBeGreaterThan(2);
      expect(delivered).toEqual(oneTo(TOTAL));
    }
  }, 120_000);

  /** Ingests as a worker does: a 503 (a conflict that outlived the node's own retries) is retried. */
  async function ingestRetrying(node: Node, body: unknown): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const response = await fetch(`${node.url}/ingest/status`, {
        method: 'POST',
        headers: { authorization: `Bearer ${await nodes.token('worker', ['publisher'])}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      if (response.status === 202) return;
      if (response.status !== 503 || attempt >= 10) throw new Error(`node ${node.name} answered ${response.status}`);
      await pause(20 + Math.random() * 50);
    }
  }

  it('audit chain: both nodes appending to one job keep one unbroken chain, and an export from either verifies with one JWKS', async () => {
    const JOB = 'two-node-audit';
    await Promise.all(
      oneTo(2).map(async (n) => {
        for (let i = 0; i < 15; i++) await ingestRetrying(n === 1 ? nodes.a : nodes.b, status({ job_id: JOB, message: `node ${n} step ${i}` }));
      }),
    );
    const jwks = (await (await fetch(`${nodes.a.url}/.well-known/statuscast-audit-keys.json`)).json()) as Jwks;
    const auditor = await nodes.token('auditor-1', ['auditor']);
    for (const node of [nodes.a, nodes.b]) {
      const text = await (await fetch(`${node.url}/jobs/${JOB}/history`, { headers: { authorization: `Bearer ${auditor}`, accept: 'application/x-ndjson' } })).text();
      const lines = text.trimEnd().split('\n');
      const checkpoint = JSON.parse(lines.at(-1)!).checkpoint;
      expect(await verifyExportLines(toAsync(lines), checkpoint, { jwks })).toMatchObject({ ok: true, jobId: JOB, lastRevision: 30 });
    }
  }, 60_000);
});

async function* toAsync(lines: readonly string[]): AsyncGenerator<string> {
  yield* lines;
}
