import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openSse } from '../support/sseReader.ts';
import { eventually, status } from '../support/testServer.ts';
import { JobWatcher } from '../transports/signalr/support/jobWatcher.ts';
import { HttpTransportType, type HubConnection, buildClient } from '../../packages/signalr-server/test/support/signalrClient.ts';
import { findNginx, type RunningProxy, startNginxProxy } from './support/nginxProxy.ts';
import { oneTo, sseRevisions } from './support/received.ts';
import { type TwoNodes, startTwoNodes } from './support/twoNodes.ts';

const nginx = findNginx();
const describeWithNginx = nginx ? describe : describe.skip;
const title = nginx
  ? 'deploy/nginx.conf in front of two statuscast processes'
  : 'deploy/nginx.conf in front of two statuscast processes — skipped: no nginx binary (set NGINX_BIN)';

describeWithNginx(title, () => {
  let nodes: TwoNodes;
  let proxy: RunningProxy;
  let alice: string;
  let hubs: HubConnection[] = [];
  const hostOf = (url: string) => new URL(url).host;

  beforeAll(async () => {
    nodes = await startTwoNodes();
    proxy = await startNginxProxy(nginx!, { a: hostOf(nodes.a.url), b: hostOf(nodes.b.url) });
    alice = await nodes.token('alice');
  }, 60_000);
  afterEach(async () => {
    await Promise.all(hubs.map((c) => c.stop()));
    hubs = [];
  });
  afterAll(async () => {
    await proxy?.stop();
    await nodes?.close();
  }, 30_000);

  it('pins a client to the node its statuscast_node cookie names, and hands out that cookie', async () => {
    const upstream = { a: hostOf(nodes.a.url), b: hostOf(nodes.b.url) };
    const picks = new Set<string>();
    for (let i = 0; i < 40; i++) {
      const response = await fetch(`${proxy.url}/healthz`);
      const node = /statuscast_node=(a|b);/.exec(response.headers.get('set-cookie') ?? '')?.[1] as 'a' | 'b' | undefined;
      expect(node).toBeDefined();
      expect(response.headers.get('x-test-upstream')).toBe(upstream[node!]);
      picks.add(node!);
    }
    expect([...picks].sort()).toEqual(['a', 'b']);
    for (const node of ['a', 'b'] as const) {
      for (let i = 0; i < 10; i++) {
        const response = await fetch(`${proxy.url}/healthz`, { headers: { cookie: `statuscast_node=${node}` } });
        expect(response.headers.get('x-test-upstream')).toBe(upstream[node]);
      }
    }
  });

  it.each([
    ['LongPolling', HttpTransportType.LongPolling],
    ['WebSockets', HttpTransportType.WebSockets],
    ['ServerSentEvents', HttpTransportType.ServerSentEvents],
  ])('official SignalR clients over %s through the proxy get every event once; SSE streams unbuffered', async (name, transport) => {
    const JOB = `proxy-${name}`;
    const TOTAL = 30;
    const ingest = (body: unknown) =>
      nodes.token('worker', ['publisher']).then((token) =>
        fetch(`${proxy.url}/ingest/status`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify(body),
        }),
      );
    expect((await ingest(status({ job_id: JOB }))).status).toBe(202);
    // Several clients, so that both nodes serve some whatever the random first pick.
    const clients = await Promise.all(
      oneTo(4).map(async () => {
        const negotiated = await fetch(`${proxy.url}/jobs/${JOB}/signalr/negotiate`, { method: 'POST', headers: { authorization: `Bearer ${alice}` } });
        expect(negotiated.status).toBe(200);
        const { url, accessToken } = (await negotiated.json()) as { url: string; accessToken: string };
        expect(url.startsWith(proxy.url)).toBe(true);
        const connection = buildClient(url, { transport, token: () => accessToken });
        hubs.push(connection);
        const watcher = new JobWatcher(connection);
        await connection.start();
        await connection.invoke('Subscribe', JOB, 0);
        return watcher;
      }),
    );
    const sse = await openSse(`${proxy.url}/jobs/${JOB}/events?after=0`, { authorization: `Bearer ${alice}` });
    await sse.waitForEvents(1, 'timeline.bulk');
    for (let revision = 2; revision <= TOTAL; revision++) {
      expect((await ingest(status({ job_id: JOB }))).status).toBe(202);
      // Each event reaches the SSE client while the stream stays open: nothing waits in a buffer.
      await eventually(() => sseRevisions(sse.events).at(-1) === revision, 10_000, `revision ${revision} over SSE`);
    }
    sse.close();
    for (const watcher of clients) {
      await watcher.until(() => watcher.lastRevision(JOB) === TOTAL);
      expect(watcher.revisions(JOB)).toEqual(oneTo(TOTAL));
    }
  });
});
