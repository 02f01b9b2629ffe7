import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAzureSignalRStandIn, type AzureSignalRStandIn } from '../../../support/azureSignalRStandIn.ts';
import { eventually, status, type TestServer } from '../../../support/testServer.ts';
import { negotiate, startAzureTestServer } from './support/azureTestServer.ts';

describe('Azure SignalR logging', () => {
  const lines: string[] = [];
  let standIn: AzureSignalRStandIn;
  let t: TestServer;

  beforeAll(async () => {
    standIn = await startAzureSignalRStandIn();
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString('utf8'));
        done();
      },
    });
    t = await startAzureTestServer(standIn, {}, { logger: pino({ level: 'trace' }, sink) });
  });
  afterAll(async () => {
    await t.close();
    await standIn.close();
  });

  it('logs failures, rejections and fallbacks with their cause, never a token or the access key', async () => {
    const alice = await t.token('alice');
    expect((await t.ingest(status({ job_id: 'az-log-1', user_id: 'alice' }))).status).toBe(202);
    const ok = await negotiate(t, alice, 'az-log-1');
    expect(ok.body.url).toBe(`${standIn.url}/client/?hub=status`);

    standIn.failNext(2, 503);
    expect((await t.ingest(status({ job_id: 'az-log-1', user_id: 'alice' }))).status).toBe(202);
    await eventually(() => standIn.groupSends().length === 8, 10_000, 'sends after retries');

    standIn.setOutage({ status: 401 });
    expect((await t.ingest(status({ job_id: 'az-log-1', user_id: 'alice' }))).status).toBe(202);
    await eventually(() => lines.some((line) => line.includes('Azure SignalR send failed')), 10_000, 'a failure log');
    standIn.setOutage({ status: 503 });
    const fallback = await negotiate(t, alice, 'az-log-1');
    expect(fallback.body.url).toBe(`${t.url}/hubs/status`);
    standIn.setOutage(null);

    const failure = JSON.parse(lines.find((line) => line.includes('Azure SignalR send failed'))!);
    expect(failure).toMatchObject({ level: 40, component: 'azure-signalr', job_id: 'az-log-1', revision: 3, status: 401, attempts: 1 });
    expect(failure.detail).toMatch(/^401 /);
    expect(lines.some((line) => line.includes('did not accept the group membership'))).toBe(true);

    const secrets = [
      standIn.accessKey,
      ...standIn.calls.map((call) => call.token!),
      ok.body.accessToken,
      new URL(ok.body.sse_url, t.url).searchParams.get('access_token')!,
      fallback.body.accessToken,
      alice,
    ];
    expect(secrets.every((secret) => typeof secret === 'string' && secret.length > 20)).toBe(true);
    const log = lines.join('');
    for (const secret of secrets) expect(log).not.toContain(secret);
    // Not even a token's signature on its own.
    for (const secret of secrets.slice(1)) expect(log).not.toContain(secret.split('.')[2]);
  });
});
