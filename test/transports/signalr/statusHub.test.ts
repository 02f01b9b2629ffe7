import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, status, type TestServer } from '../../support/testServer.ts';
import { JobWatcher, range } from './support/jobWatcher.ts';
import { buildClient, TRANSPORTS, type HubConnection } from '../../../packages/signalr-server/test/support/signalrClient.ts';
import { dispatched, negotiateHub } from './support/statuscast.ts';

describe.each(TRANSPORTS)('statuscast hub over %s with the official client', (name, transport) => {
  let t: TestServer;
  let alice: string;
  let clients: HubConnection[] = [];
  const job = (suffix: string) => `sr-${name}-${suffix}`;

  beforeAll(async () => {
    t = await startTestServer();
    alice = await t.token('alice');
  });
  afterEach(async () => {
    await Promise.all(clients.map((c) => c.stop()));
    clients = [];
  });
  afterAll(async () => {
    await t.close();
  });

  async function connect(jobId: string, userToken = alice): Promise<{ connection: HubConnection; watcher: JobWatcher }> {
    const { url, accessToken } = await negotiateHub(t, userToken, jobId);
    expect(url).toBe(`${t.url}/hubs/status`);
    const connection = buildClient(url, { transport, token: () => accessToken });
    clients.push(connection);
    const watcher = new JobWatcher(connection);
    await connection.start();
    return { connection, watcher };
  }

  it('subscribes after r: one bulk with exactly r+1.., the Completion, then live events in contract shape', async () => {
    const jobId = job('a');
    await t.ingest({ messages: [1, 2, 3].map(() => status({ job_id: jobId })) });
    const { connection, watcher } = await connect(jobId);

    const result = await connection.invoke('Subscribe', jobId, 1);
    expect(result).toEqual({ job_id: jobId, revision: 3 });
    expect(watcher.bulks).toHaveLength(1);
    expect(watcher.bulks[0]).toEqual({
      job_id: jobId,
      events: [expect.objectContaining({ revision: 2 }), expect.objectContaining({ revision: 3 })],
      meta: { from_revision: 2, to_revision: 3 },
    });
    expect(Object.keys(watcher.bulks[0]!.events[0]!).sort()).toEqual(
      ['artifact', 'cycle', 'details', 'message', 'progress', 'revision', 'stage', 'state', 'ts'],
    );

    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    await t.ingest(status({ job_id: jobId, stage: 'rendering', progress: 0.9, cycle: 1, details: { pages: 3 } }), { traceparent });
    await t.ingest(status({ job_id: jobId, state: 'succeeded' }));
    await watcher.until(() => watcher.latest.length === 2);
    expect(watcher.received.map((r) => [r.kind, ...r.revisions])).toEqual([
      ['bulk', 2, 3],
      ['event', 4],
      ['latest', 4],
      ['event', 5],
      ['latest', 5],
    ]);
    expect(watcher.events[0]).toEqual({
      job_id: jobId,
      event: {
        revision: 4, stage: 'rendering', state: 'running', artifact: null, message: expect.any(String),
        cycle: 1, progress: 0.9, details: { pages: 3 }, ts: expect.any(String),
      },
      trace: { traceparent },
    });
    expect(watcher.latest[0]).toEqual({
      job_id: jobId, stage: 'rendering', state: 'running', artifact: null, message: expect.any(String),
      cycle: 1, progress: 0.9, details: { pages: 3 }, ts: expect.any(String), revision: 4, trace: { traceparent },
    });
    expect(watcher.latest[1]).toMatchObject({ revision: 5, state: 'succeeded' });
    expect(watcher.latest[1]).not.toHaveProperty('trace');
  });

  it('sends the full history when after_revision is omitted, and an empty bulk when nothing was missed', async () => {
    const jobId = job('b');
    await t.ingest({ messages: [1, 2].map(() => status({ job_id: jobId })) });
    const { connection, watcher } = await connect(jobId);
    await expect(connection.invoke('Subscribe', jobId)).resolves.toEqual({ job_id: jobId, revision: 2 });
    expect(watcher.revisions()).toEqual([1, 2]);
    expect(watcher.bulks[0]!.meta).toEqual({ from_revision: 1, to_revision: 2 });
    await expect(connection.invoke('Subscribe', jobId, 2)).resolves.toEqual({ job_id: jobId, revision: 2 });
    expect(watcher.bulks[1]).toEqual({ job_id: jobId, events: [], meta: { from_revision: 3, to_revision: 2 } });
  });

  it('answers an unknown method, bad arguments and an invisible job with error completions', async () => {
    const jobId = job('c');
    await t.ingest(status({ job_id: jobId }));
    await t.ingest(status({ job_id: job('bob'), user_id: 'bob' }));
    const { connection } = await connect(jobId);
    await expect(connection.invoke('NoSuchMethod', 1)).rejects.toThrow("Unknown hub method 'NoSuchMethod'.");
    await expect(connection.invoke('Subscribe', 42)).rejects.toThrow(/Invalid arguments for 'Subscribe'/);
    await expect(connection.invoke('Subscribe', jobId, -1)).rejects.toThrow(/after_revision/);
    // Bob's job and a job that does not exist answer identically.
    const bobs = connection.invoke('Subscribe', job('bob')).catch((e: Error) => e.message);
    const missing = connection.invoke('Subscribe', job('missing')).catch((e: Error) => e.message);
    expect(await bobs).toBe(await missing);
    expect(await bobs).toMatch(/not found$/);
    // The stream token is scoped to this job: another of alice's jobs is "not found" too.
    await t.ingest(status({ job_id: job('other') }));
    await expect(connection.invoke('Subscribe', job('other'))).rejects.toThrow(/not found$/);
    // Method names are case-insensitive, and the connection is still healthy.
    await expect(connection.invoke('subscribe', jobId, 1)).resolves.toEqual({ job_id: jobId, revision: 1 });
  });

  it('counts connections, messages by target and invocations in the shared metrics', async () => {
    const jobId = job('m');
    await t.ingest(status({ job_id: jobId }));
    const label = { WebSockets: 'signalr-websockets', ServerSentEvents: 'signalr-sse', LongPolling: 'signalr-longpolling' }[name];
    const sent = async (target: string) =>
      (await t.server.metrics.messagesSent.get()).values.find((v) => v.labels.transport === label && v.labels.target === target)?.value ?? 0;
    const invocations = async (method: string, outcome: string) => {
      const metric = t.server.metrics.registry.getSingleMetric('statuscast_signalr_invocations_total')!;
      return (await metric.get()).values.find((v) => v.labels['method'] === method && v.labels['outcome'] === outcome)?.value ?? 0;
    };
    const before = { bulk: await sent('timeline.bulk'), event: await sent('timeline.event'), ok: await invocations('Subscribe', 'ok'), unknown: await invocations('unknown', 'unknown-method') };
    const { connection, watcher } = await connect(jobId);
    const open = (await t.server.metrics.connections.get()).values.find((v) => v.labels.transport === label)?.value;
    expect(open).toBeGreaterThanOrEqual(1);
    await connection.invoke('Subscribe', jobId, null);
    await connection.invoke('Whatever').catch(() => undefined);
    await t.ingest(status({ job_id: jobId }));
    await watcher.until(() => watcher.latest.length === 1);
    expect(await sent('timeline.bulk')).toBe(before.bulk + 1);
    expect(await sent('timeline.event')).toBe(before.event + 1);
    expect(await invocations('Subscribe', 'ok')).toBe(before.ok + 1);
    expect(await invocations('unknown', 'unknown-method')).toBe(before.unknown + 1);
  });

  it('stops the events on Unsubscribe', async () => {
    const jobId = job('d');
    await t.ingest(status({ job_id: jobId }));
    const { connection, watcher } = await connect(jobId);
    await connection.invoke('Subscribe', jobId, 1);
    await t.ingest(status({ job_id: jobId }));
    await watcher.until(() => watcher.latest.length === 1);
    await expect(connection.invoke('Unsubscribe', jobId)).resolves.toBeUndefined();
    await t.ingest(status({ job_id: jobId }));
    await dispatched(t);
    // Anything the server had sent for revision 3 would have arrived before this Completion.
    await connection.invoke('Unsubscribe', jobId);
    expect(watcher.revisions()).toEqual([2]);
    expect(watcher.latest.map((l) => l.revision)).toEqual([2]);
  });
});
