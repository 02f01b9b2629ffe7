import { decodeJwt, decodeProtectedHeader, jwtVerify } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startAzureSignalRStandIn, type AzureSignalRStandIn, type RestCall } from '../../../support/azureSignalRStandIn.ts';
import { eventually, status, type TestServer } from '../../../support/testServer.ts';
import { metricValue, negotiate, startAzureTestServer } from './support/azureTestServer.ts';

const ALICE = 'auth0|alice';

function jobOf(call: RestCall): unknown {
  return (call.message?.arguments[0] as { job_id?: unknown } | undefined)?.job_id;
}

describe('negotiate in Azure SignalR serverless mode (against the stand-in)', () => {
  let standIn: AzureSignalRStandIn;
  let t: TestServer;
  let alice: string;
  let jobCounter = 0;

  beforeAll(async () => {
    standIn = await startAzureSignalRStandIn();
    t = await startAzureTestServer(standIn);
    alice = await t.token(ALICE);
  });
  afterEach(() => {
    standIn.setOutage(null);
    expect(standIn.problems()).toEqual([]);
  });
  afterAll(async () => {
    await t.close();
    await standIn.close();
  });

  async function newJob(owner = ALICE): Promise<string> {
    const jobId = `az-neg-${++jobCounter}`;
    expect((await t.ingest(status({ job_id: jobId, user_id: owner }))).status).toBe(202);
    // Let the publisher's four sends for it land, so they never mix with what a test counts.
    await eventually(() => standIn.groupSends().filter((call) => jobOf(call) === jobId).length === 4, 10_000, 'sends for the new job');
    return jobId;
  }
  const memberships = () => standIn.calls.filter((call) => call.route.kind === 'add-user-to-group');

  it('answers the redirect form with a client token the service accepts (aud, nameid, exp, HS256 with the key)', async () => {
    const jobId = await newJob();
    const { status: code, body } = await negotiate(t, alice, jobId);
    expect(code).toBe(200);
    expect(body.url).toBe(`${standIn.url}/client/?hub=status`);
    expect(body).toMatchObject({ hub: 'status', groups: [`job:${jobId}:user:${ALICE}`], serverless: true });
    expect(body.history.meta).toMatchObject({ owner: ALICE, revision: 1 });

    expect(decodeProtectedHeader(body.accessToken)).toEqual({ alg: 'HS256', typ: 'JWT' });
    const { payload } = await jwtVerify(body.accessToken, new TextEncoder().encode(standIn.accessKey), { algorithms: ['HS256'] });
    expect(Object.keys(payload).sort()).toEqual(['asrs.s.aeo', 'asrs.s.coae', 'aud', 'exp', 'nameid']);
    // Host of Endpoint, no port (the stand-in listens on one), lower-case hub.
    expect(payload.aud).toBe('http://127.0.0.1/client/?hub=status');
    expect(payload['nameid']).toBe(ALICE);
    // Exactly the stream token's expiry: the client token never outlives it.
    expect(payload.exp! * 1000).toBe(Date.parse(body.expires_at));
    const streamToken = new URL(body.sse_url, t.url).searchParams.get('access_token')!;
    expect(payload.exp).toBe(decodeJwt(streamToken).exp);
    await expect(jwtVerify(body.accessToken, Buffer.from(standIn.accessKey, 'base64'))).rejects.toThrow();
  });

  it('adds the user to the job group through PUT users/{user}/groups/{group}?ttl= (the token lifetime) before answering', async () => {
    const jobId = await newJob();
    const before = memberships().length;
    const held = standIn.hold((call) => call.route.kind === 'add-user-to-group');
    let answered = false;
    const answer = negotiate(t, alice, jobId).then((result) => {
      answered = true;
      return result;
    });
    const put = await held.arrived;
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(answered).toBe(false);
    held.release();
    const { status: code, body } = await answer;
    expect(code).toBe(200);

    expect(memberships()).toHaveLength(before + 1);
    expect(put.method).toBe('PUT');
    expect(put.route).toEqual({ kind: 'add-user-to-group', user: ALICE, group: `job:${jobId}:user:${ALICE}`, ttl: expect.any(Number) });
    expect(put.rawUrl).toBe(
      `/api/hubs/status/users/auth0%7Calice/groups/job%3A${jobId}%3Auser%3Aauth0%7Calice?api-version=2022-06-01&ttl=${(put.route as { ttl: number }).ttl}`,
    );
    expect(put.claims!.aud).toBe(`http://127.0.0.1/api/hubs/status/users/auth0%7Calice/groups/job%3A${jobId}%3Auser%3Aauth0%7Calice?api-version=2022-06-01`);
    expect(put.status).toBe(200);
    // TTL: from the PUT to the token's expiry (within the second the clock ticked over).
    const exp = decodeJwt(body.accessToken).exp!;
    const ttl = (put.route as { ttl: number }).ttl;
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(600);
    expect(Math.abs(Math.floor(Date.now() / 1000) + ttl - exp)).toBeLessThanOrEqual(2);
    expect(standIn.clients.memberships.get(ALICE)?.has(`job:${jobId}:user:${ALICE}`)).toBe(true);
  });

  it('the feed negotiate adds the user to user:<id>; an admin is added to the group of the job it looks at', async () => {
    const feed = await negotiate(t, alice);
    expect(feed.status).toBe(200);
    expect(feed.body.url).toBe(`${standIn.url}/client/?hub=status`);
    expect(memberships().at(-1)!.route).toMatchObject({ user: ALICE, group: `user:${ALICE}` });
    expect(memberships().at(-1)!.rawUrl).toMatch(/^\/api\/hubs\/status\/users\/auth0%7Calice\/groups\/user%3Aauth0%7Calice\?/);

    const jobId = await newJob();
    const admin = await negotiate(t, await t.token('root', ['admin']), jobId);
    expect(admin.status).toBe(200);
    expect(decodeJwt(admin.body.accessToken)['nameid']).toBe('root');
    expect(memberships().at(-1)!.route).toMatchObject({ user: 'root', group: `job:${jobId}:user:${ALICE}` });

    const stranger = await negotiate(t, await t.token('mallory'), jobId);
    expect(stranger.status).toBe(404);
    expect(memberships().at(-1)!.route).not.toMatchObject({ user: 'mallory' });
  });

  it('falls back to the embedded hub when the service keeps failing the membership (retried, then counted)', async () => {
    const jobId = await newJob();
    const registry = t.server.metrics.registry;
    const retriesBefore = await metricValue(registry, 'statuscast_azure_signalr_retries_total', { reason: 'server-error' });
    standIn.setOutage({ status: 503 });
    const before = memberships().length;
    const { status: code, body } = await negotiate(t, alice, jobId);
    expect(code).toBe(200);
    expect(body.url).toBe(`${t.url}/hubs/status`);
    expect(body).not.toHaveProperty('serverless');
    expect(body.accessToken).toBe(new URL(body.sse_url, t.url).searchParams.get('access_token'));
    expect(memberships().length - before).toBe(3); // NEGOTIATE attempts in FAST_TUNING
    expect(await metricValue(registry, 'statuscast_azure_signalr_retries_total', { reason: 'server-error' })).toBe(retriesBefore + 2);
    expect(await metricValue(registry, 'statuscast_azure_signalr_negotiations_total', { outcome: 'fallback' })).toBeGreaterThanOrEqual(1);
    expect(await metricValue(registry, 'statuscast_azure_signalr_group_memberships_total', { outcome: 'failed' })).toBeGreaterThanOrEqual(1);
  });

  it('does not repeat a membership the service rejects (403), and falls back', async () => {
    const jobId = await newJob();
    standIn.setOutage({ status: 403 });
    const before = memberships().length;
    const { status: code, body } = await negotiate(t, alice, jobId);
    expect(code).toBe(200);
    expect(body.url).toBe(`${t.url}/hubs/status`);
    expect(memberships().length - before).toBe(1);
  });
});
