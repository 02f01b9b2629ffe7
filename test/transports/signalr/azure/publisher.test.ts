import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { jobStreamName } from '../../../../src/domain/job/events.ts';
import { appendToStream } from '../../../../src/store/eventStore.ts';
import type { Principal } from '../../../../src/auth/principal.ts';
import { startAzureSignalRStandIn, type AzureSignalRStandIn, type RestCall } from '../../../support/azureSignalRStandIn.ts';
import { eventually, status, type TestServer } from '../../../support/testServer.ts';
import { buildClient, HttpTransportType, type HubConnection } from '../../../../packages/signalr-server/test/support/signalrClient.ts';
import { metricValue, startAzureTestServer } from './support/azureTestServer.ts';

const ALICE = 'auth0|alice';
const jobGroup = (jobId: string, owner = ALICE) => `job:${jobId}:user:${owner}`;
const userGroup = (owner = ALICE) => `user:${owner}`;

function argumentOf(call: RestCall): Record<string, any> {
  return call.message!.arguments[0] as Record<string, any>;
}
function jobOf(call: RestCall): string {
  const argument = argumentOf(call);
  return argument['job_id'] as string;
}
function revisionOf(call: RestCall): number {
  const argument = argumentOf(call);
  return call.message!.target === 'timeline.event' ? argument['event'].revision : argument['revision'];
}
/** `[target, revision]` of every accepted send to `group` about `jobId`, in arrival order. */
function sequence(standIn: AzureSignalRStandIn, group: string, jobId: string): [string, number][] {
  return standIn
    .groupSends(group)
    .filter((call) => jobOf(call) === jobId)
    .map((call) => [call.message!.target, revisionOf(call)]);
}
function pairs(...revisions: number[]): [string, number][] {
  return revisions.flatMap((r): [string, number][] => [['timeline.event', r], ['status.latest', r]]);
}

describe('Azure SignalR publisher (against the stand-in)', () => {
  let standIn: AzureSignalRStandIn;
  let t: TestServer;
  const clients: HubConnection[] = [];

  beforeAll(async () => {
    standIn = await startAzureSignalRStandIn();
    t = await startAzureTestServer(standIn);
  });
  afterEach(() => {
    standIn.setOutage(null);
    standIn.failNext(0);
    expect(standIn.problems()).toEqual([]);
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.stop()));
    await t.close();
    await standIn.close();
  });

  /** An official client on the embedded hub (still mounted) following `jobId` and the feed. */
  async function embeddedClient(jobId: string) {
    const principal: Principal = { userId: ALICE, roles: new Set(), tokenKind: 'user', groups: null, expiresAt: null };
    const { token } = await t.server.streamTokens.issue(principal, [jobGroup(jobId), userGroup()]);
    const connection = buildClient(`${t.url}/hubs/status`, { transport: HttpTransportType.WebSockets, token: () => token });
    clients.push(connection);
    const job: { target: string; argument: unknown }[] = [];
    const feed: { target: string; argument: unknown }[] = [];
    // One connection follows both: the feed's timeline.event carries `position`, the job's does not.
    connection.on('timeline.event', (argument: Record<string, unknown>) => ('position' in argument ? feed : job).push({ target: 'timeline.event', argument }));
    let latestCount = 0;
    connection.on('status.latest', (argument: unknown) => {
      // Each live event reaches this connection twice (job, then feed): alternate.
      (latestCount++ % 2 === 0 ? job : feed).push({ target: 'status.latest', argument });
    });
    await connection.start();
    await connection.invoke('Subscribe', jobId, null);
    await connection.invoke('SubscribeFeed', null);
    return { job, feed };
  }

  it('sends timeline.event then status.latest to the job group and the owner group, with the embedded hub\'s exact JSON', async () => {
    const jobId = 'az-pub-shapes';
    expect((await t.ingest(status({ job_id: jobId, user_id: ALICE }))).status).toBe(202);
    await eventually(() => sequence(standIn, jobGroup(jobId), jobId).length === 2, 10_000, 'first event');
    const hub = await embeddedClient(jobId);

    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    await t.ingest(status({ job_id: jobId, user_id: ALICE, stage: 'rendering', cycle: 2, progress: 0.75, details: { pages: 3 } }), {
      traceparent,
      tracestate: 'vendor=1',
    });
    await t.ingest(status({ job_id: jobId, user_id: ALICE, state: 'succeeded', stage: 'done', progress: 1 }));
    await eventually(() => sequence(standIn, userGroup(), jobId).length === 6, 10_000, 'sends to both groups');
    await eventually(() => hub.job.length === 4 && hub.feed.length === 4, 10_000, 'embedded hub deliveries');

    expect(sequence(standIn, jobGroup(jobId), jobId)).toEqual(pairs(1, 2, 3));
    expect(sequence(standIn, userGroup(), jobId)).toEqual(pairs(1, 2, 3));

    const jobSends = standIn.groupSends(jobGroup(jobId)).slice(2);
    const userSends = standIn.groupSends(userGroup()).filter((call) => jobOf(call) === jobId).slice(2);
    // Byte-for-byte the embedded hub's arguments (key order included), per group kind.
    expect(jobSends.map((call) => ({ target: call.message!.target, argument: JSON.stringify(argumentOf(call)) }))).toEqual(
      hub.job.map((m) => ({ target: m.target, argument: JSON.stringify(m.argument) })),
    );
    expect(userSends.map((call) => ({ target: call.message!.target, argument: JSON.stringify(argumentOf(call)) }))).toEqual(
      hub.feed.map((m) => ({ target: m.target, argument: JSON.stringify(m.argument) })),
    );

    // The contract's shapes (§5), trace context included.
    const [event2, latest2] = jobSends;
    expect(argumentOf(event2!)).toEqual({
      job_id: jobId,
      event: {
        revision: 2, stage: 'rendering', state: 'running', artifact: null, message: expect.any(String), cycle: 2,
        progress: 0.75, details: { pages: 3 }, ts: expect.any(String),
      },
      trace: { traceparent, tracestate: 'vendor=1' },
    });
    expect(argumentOf(latest2!)).toEqual({
      job_id: jobId, stage: 'rendering', state: 'running', artifact: null, message: expect.any(String), cycle: 2,
      progress: 0.75, details: { pages: 3 }, ts: expect.any(String), revision: 2, trace: { traceparent, tracestate: 'vendor=1' },
    });
    expect(argumentOf(userSends[0]!)).toEqual({ ...argumentOf(event2!), position: expect.any(String) });
    // One status.latest body serves both groups.
    expect(userSends[1]!.body).toBe(latest2!.body);

    // Wire details: group names percent-encoded as sent, the send body exactly {target, arguments}.
    expect(jobSends[0]!.rawUrl).toBe(`/api/hubs/status/groups/job%3A${jobId}%3Auser%3Aauth0%7Calice/:send?api-version=2022-06-01`);
    expect(userSends[0]!.rawUrl).toBe('/api/hubs/status/groups/user%3Aauth0%7Calice/:send?api-version=2022-06-01');
    expect(jobSends[0]!.claims!.aud).toBe(`http://127.0.0.1${jobSends[0]!.rawUrl}`);
    expect(Object.keys(JSON.parse(jobSends[0]!.body))).toEqual(['target', 'arguments']);
    expect(jobSends.every((call) => call.status === 202)).toBe(true);
  });

  it('keeps every group in revision order while many jobs interleave', async () => {
    const owners = ['auth0|bob', 'carol'];
    const jobs = ['az-pub-m1', 'az-pub-m2', 'az-pub-m3', 'az-pub-m4'];
    const messages = Array.from({ length: 40 }, (_, i) => status({ job_id: jobs[i % 4], user_id: owners[i % 2] }));
    for (let i = 0; i < messages.length; i += 8) expect((await t.ingest({ messages: messages.slice(i, i + 8) })).status).toBe(202);
    for (const [index, jobId] of jobs.entries()) {
      const owner = owners[index % 2]!;
      await eventually(() => sequence(standIn, jobGroup(jobId, owner), jobId).length === 20, 15_000, `sends for ${jobId}`);
      expect(sequence(standIn, jobGroup(jobId, owner), jobId)).toEqual(pairs(...Array.from({ length: 10 }, (_, i) => i + 1)));
    }
    for (const owner of owners) {
      await eventually(() => standIn.groupSends(userGroup(owner)).length === 40, 15_000, `feed sends for ${owner}`);
      const sends = standIn.groupSends(userGroup(owner));
      // The owner's group receives its jobs' events in store order: per job, revisions 1..10 in pairs.
      for (const jobId of jobs.filter((_, i) => owners[i % 2] === owner)) {
        expect(sequence(standIn, userGroup(owner), jobId)).toEqual(pairs(...Array.from({ length: 10 }, (_, i) => i + 1)));
      }
      const positions = sends.filter((call) => call.message!.target === 'timeline.event').map((call) => BigInt(String(argumentOf(call)['position']).split('-')[0]!));
      expect([...positions].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))).toEqual(positions);
    }
  });

  it('retries 503 answers with backoff and then delivers, in order, counting the retries', async () => {
    const registry = t.server.metrics.registry;
    const retried = () => metricValue(registry, 'statuscast_azure_signalr_retries_total', { reason: 'server-error' });
    // The stand-in records a call as it answers; the publisher counts it once it has read the
    // answer. The previous test's last send can sit between the two: take the baseline once the
    // count has stopped moving.
    const sentBefore = await settled(() => metricValue(registry, 'statuscast_azure_signalr_sends_total', { outcome: 'sent' }));
    const retriesBefore = await retried();
    const callsBefore = standIn.calls.length;

    const jobId = 'az-pub-retry';
    standIn.failNext(3, 503);
    expect((await t.ingest(status({ job_id: jobId, user_id: ALICE }))).status).toBe(202);
    await eventually(() => sequence(standIn, userGroup(), jobId).length === 2 && sequence(standIn, jobGroup(jobId), jobId).length === 2);

    const answered = standIn.calls.slice(callsBefore).map((call) => call.status);
    expect(answered.filter((s) => s === 503)).toHaveLength(3);
    expect(sequence(standIn, jobGroup(jobId), jobId)).toEqual(pairs(1));
    expect(sequence(standIn, userGroup(), jobId)).toEqual(pairs(1));
    expect(await retried()).toBe(retriesBefore + 3);
    expect(await metricValue(registry, 'statuscast_azure_signalr_sends_total', { outcome: 'sent' })).toBe(sentBefore + 4);
  });

  // The official SDK retries a REST call only on a status above 500 (and its own timeout):
  // a 500 can be a send that timed out inside the service after it was delivered (and billed),
  // and a 429 is the Free tier's daily quota or a unit's rate limit, which a retry seconds later
  // only spends again (Azure/azure-signalr Management `RetryHttpMessageHandler` with its
  // transient-error predicate).
  for (const [label, code, delivered] of [
    ['500 (delivered inside the service, then timed out)', 500, true],
    ['429 (quota)', 429, false],
  ] as const) {
    it(`does not repeat a send answered ${label}; it is counted as failed`, async () => {
      const registry = t.server.metrics.registry;
      const failedBefore = await metricValue(registry, 'statuscast_azure_signalr_sends_total', { outcome: 'failed' });
      const jobId = `az-pub-no-retry-${code}`;
      const held = standIn.hold((call) => call.route.kind === 'send-to-group' && call.route.group === jobGroup(jobId));
      expect((await t.ingest(status({ job_id: jobId, user_id: ALICE }))).status).toBe(202);
      await held.arrived;
      standIn.failNext(1, code, { delivered });
      held.release();
      const toJobGroup = () => standIn.calls.filter((call) => call.route.kind === 'send-to-group' && call.route.group === jobGroup(jobId));
      await eventually(() => sequence(standIn, userGroup(), jobId).length === 2 && toJobGroup().some((call) => call.status === 202), 10_000, 'the sends');
      // A repeat would have come before the next send of the same group's lane.
      // timeline.event once (answered `code`, never repeated), then status.latest.
      expect(toJobGroup().map((call) => [call.message!.target, call.status])).toEqual([
        ['timeline.event', code],
        ['status.latest', 202],
      ]);
      expect(await metricValue(registry, 'statuscast_azure_signalr_sends_total', { outcome: 'failed' })).toBe(failedBefore + 1);
    });
  }
});

describe('Azure SignalR publisher and the 1 MB request limit', () => {
  it('sends a small timeline.ref in place of an event too large for one request, so clients read it from history at once', async () => {
    const standIn = await startAzureSignalRStandIn();
    const t = await startAzureTestServer(standIn);
    try {
      const jobId = 'az-pub-huge';
      expect((await t.ingest(status({ job_id: jobId, user_id: ALICE }))).status).toBe(202);
      await eventually(() => sequence(standIn, jobGroup(jobId), jobId).length === 2, 10_000, 'the first event');
      // An event larger than the service takes in one request, written by another producer
      // (ingest bounds its own messages far below 1 MB).
      const stream = jobStreamName(jobId);
      await appendToStream(t.server.store, stream, [
        {
          id: randomUUID(),
          type: 'StatusReported',
          data: { ...status({ job_id: jobId, user_id: ALICE, message_id: 'huge' }), details: { blob: 'x'.repeat(1_200_000) }, artifact: null, cycle: null },
          metadata: {},
        },
      ], 1);
      const answeredTo = (group: string) => standIn.calls.filter((c) => c.route.kind === 'send-to-group' && c.route.group === group && c.status !== 0 && jobOf(c) === jobId);
      await eventually(() => answeredTo(userGroup()).length >= 3 && answeredTo(jobGroup(jobId)).length >= 3, 10_000, 'the sends of revision 2');
      const late = standIn.calls.filter((c) => c.route.kind === 'send-to-group' && c.route.group === jobGroup(jobId)).slice(2);
      expect(late.map((c) => c.status)).not.toContain(413);
      expect(late.map((c) => [c.message?.target, c.status])).toEqual([['timeline.ref', 202]]);
      expect(late[0]!.message!.arguments[0]).toEqual({ job_id: jobId, revision: 2 });
      const toUser = standIn.calls.filter((c) => c.route.kind === 'send-to-group' && c.route.group === userGroup() && jobOf(c) === jobId).slice(2);
      expect(toUser.map((c) => c.message?.target)).toEqual(['timeline.ref']);
      expect(argumentOf(toUser[0]!)).toMatchObject({ job_id: jobId, revision: 2, position: expect.stringMatching(/^\d+/) });
      expect(standIn.problems()).toEqual([]);
    } finally {
      await t.close();
      await standIn.close();
    }
  });
});

describe('Azure SignalR publisher when the service is down', () => {
  it('never fails ingest; failures and drops are counted and the queue stays bounded (service refusing connections)', async () => {
    const standIn = await startAzureSignalRStandIn();
    const t = await startAzureTestServer(standIn, {
      maxQueuedSends: 20,
      maxConcurrentSends: 2,
      sendRetry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 5 },
    });
    try {
      await standIn.close(); // nothing listens on its port any more
      const jobId = 'az-dead-refused';
      for (let i = 0; i < 50; i++) expect((await t.ingest(status({ job_id: jobId, user_id: ALICE }))).status).toBe(202);

      const registry = t.server.metrics.registry;
      const count = (outcome: string) => metricValue(registry, 'statuscast_azure_signalr_sends_total', { outcome });
      await eventually(async () => (await count('failed')) + (await count('dropped')) === 200, 20_000, 'every send accounted for');
      expect(await count('sent')).toBe(0);
      expect(await count('failed')).toBeGreaterThan(0);
      expect(await metricValue(registry, 'statuscast_azure_signalr_retries_total', { reason: 'network' })).toBeGreaterThan(0);
      expect(await metricValue(registry, 'statuscast_azure_signalr_queued_sends')).toBe(0);

      // Everything else keeps working: the history has all 50 entries.
      const history = await fetch(`${t.url}/jobs/${jobId}/history?after=0&limit=1000`, {
        headers: { authorization: `Bearer ${await t.token(ALICE)}` },
      }).then((r) => r.json() as Promise<{ events: unknown[] }>);
      expect(history.events).toHaveLength(50);
    } finally {
      await t.close();
    }
  });

  it('gives up on an attempt that outlives its timeout and counts it as a timeout', async () => {
    const standIn = await startAzureSignalRStandIn();
    const t = await startAzureTestServer(standIn, { requestTimeoutMs: 100, sendRetry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 5 } });
    const registry = t.server.metrics.registry;
    try {
      standIn.setOutage('hang');
      expect((await t.ingest(status({ job_id: 'az-dead-timeout', user_id: ALICE }))).status).toBe(202);
      await eventually(
        async () => (await metricValue(registry, 'statuscast_azure_signalr_sends_total', { outcome: 'failed' })) === 4,
        10_000,
        'four timed-out sends',
      );
      expect(await metricValue(registry, 'statuscast_azure_signalr_retries_total', { reason: 'timeout' })).toBe(4);
      expect(standIn.calls).toHaveLength(8);
    } finally {
      await t.close();
      await standIn.close();
    }
  });

  it('never waits for a service that does not answer: 202s continue, the oldest sends are dropped, the rest abandoned on stop', async () => {
    const standIn = await startAzureSignalRStandIn();
    const t = await startAzureTestServer(standIn, {
      maxQueuedSends: 20,
      maxConcurrentSends: 2,
      requestTimeoutMs: 120_000,
      stopTimeoutMs: 100,
    });
    const registry = t.server.metrics.registry;
    const count = (outcome: string) => metricValue(registry, 'statuscast_azure_signalr_sends_total', { outcome });
    try {
      standIn.setOutage('hang');
      const jobId = 'az-dead-hang';
      // Not one of these could be answered if ingest waited for the service.
      for (let i = 0; i < 30; i++) expect((await t.ingest(status({ job_id: jobId, user_id: ALICE }))).status).toBe(202);
      // 120 sends: 2 stuck in flight (job group and user group), 20 waiting, the oldest 98 dropped.
      await eventually(async () => (await count('dropped')) === 98, 10_000, '98 drops');
      expect(await metricValue(registry, 'statuscast_azure_signalr_queued_sends')).toBe(20);
      expect(standIn.calls).toHaveLength(2);
    } finally {
      await t.close();
      await standIn.close();
    }
    expect(await count('abandoned')).toBe(22);
    expect(await count('sent')).toBe(0);
  });
});

/** A counter's value once two readings 100 ms apart agree. */
async function settled(read: () => Promise<number>): Promise<number> {
  let previous = await read();
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    const current = await read();
    if (current === previous) return current;
    previous = current;
  }
}
