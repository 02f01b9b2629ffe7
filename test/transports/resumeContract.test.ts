import { HubConnectionBuilder, LogLevel } from '@microsoft/signalr';
import { decodeProtectedHeader } from 'jose';
import { afterAll, beforeAll, describe } from 'vitest';
import { openSse } from '../support/sseReader.ts';
import { startTestServer, type TestServer } from '../support/testServer.ts';
import { type Followed, type StreamDriver, negotiateStreamToken, resumeContract } from './resumeContract.ts';
import { TRANSPORTS } from '../../packages/signalr-server/test/support/signalrClient.ts';

/** Plain SSE, as `EventSource` uses it: the resume point in `?after=`, a stream token in the URL. */
const sse: StreamDriver = {
  name: 'sse',
  streamToken: (t, user, jobId) => negotiateStreamToken(t, user, jobId),
  followJob: (t, token, jobId, after) => openSseFollow(t, `/jobs/${jobId}/events`, token, after, 'job'),
  followFeed: (t, token, after) => openSseFollow(t, '/events', token, after, 'feed'),
};

async function openSseFollow(t: TestServer, path: string, token: string, after: unknown, kind: 'job' | 'feed'): Promise<Followed> {
  const query = after === undefined ? '' : `?after=${encodeURIComponent(String(after))}`;
  const connection = await openSse(`${t.url}${path}${query}`, { authorization: `Bearer ${token}` });
  if (connection.status === 400) return { kind: 'invalid' };
  if (connection.status === 404) return { kind: 'not found' };
  if (connection.status !== 200) throw new Error(`SSE answered ${connection.status}: ${await connection.text()}`);
  const items: string[] = [];
  let seen = 0;
  const collect = () => {
    for (; seen < connection.events.length; seen++) {
      const event = connection.events[seen]!;
      const data = JSON.parse(event.data) as Record<string, any>;
      if (event.event === 'timeline.bulk') items.push(...(data['events'] as { revision: number }[]).map((e) => `${data['job_id']}@${e.revision}`));
      if (event.event === 'timeline.event') items.push(`${data['job_id']}@${data['event'].revision}`);
    }
  };
  // The stream opens once the catch-up is written: the first frame on a job stream is its
  // bulk; a feed resume that is too old is a lone feed.reset that ends the stream.
  if (kind === 'job') await connection.waitForEvents(1, 'timeline.bulk');
  else await Promise.race([connection.ended, new Promise((resolve) => setTimeout(resolve, 300))]);
  if (connection.events.some((e) => e.event === 'feed.reset')) {
    connection.close();
    return { kind: 'reset' };
  }
  const timer = setInterval(collect, 10);
  collect();
  return {
    kind: 'opened',
    items,
    async close() {
      clearInterval(timer);
      collect();
      connection.close();
    },
  };
}

const isStreamToken = (token: string) => decodeProtectedHeader(token).alg === 'HS256';

/**
 * The official SignalR client over one transport, the way a browser uses it: negotiate with
 * the user token for a stream token (unless handed one), connect with it, then
 * `Subscribe(job_id, after)` / `SubscribeFeed(after)`.
 */
function signalr(name: string, transport: (typeof TRANSPORTS)[number][1]): StreamDriver {
  async function follow(
    t: TestServer,
    token: string,
    jobId: string | undefined,
    invoke: (c: ReturnType<HubConnectionBuilder['build']>) => Promise<unknown>,
  ): Promise<Followed> {
    if (!isStreamToken(token)) {
      const path = jobId ? `/jobs/${jobId}/signalr/negotiate` : '/signalr/negotiate';
      const response = await fetch(`${t.url}${path}`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
      if (response.status === 404) return { kind: 'not found' };
      token = ((await response.json()) as { accessToken: string }).accessToken;
    }
    const connection = new HubConnectionBuilder()
      .withUrl(`${t.url}/hubs/status`, { transport, accessTokenFactory: () => token })
      .configureLogging(LogLevel.None)
      .build();
    const items: string[] = [];
    connection.on('timeline.bulk', (bulk: { job_id: string; events: { revision: number }[] }) => {
      items.push(...bulk.events.map((e) => `${bulk.job_id}@${e.revision}`));
    });
    connection.on('timeline.event', (event: { job_id: string; event: { revision: number } }) => items.push(`${event.job_id}@${event.event.revision}`));
    await connection.start();
    try {
      await invoke(connection);
    } catch (error) {
      await connection.stop();
      const message = error instanceof Error ? error.message : String(error);
      if (/(^|: )not found$/.test(message)) return { kind: 'not found' };
      if (/Invalid arguments/.test(message)) return { kind: 'invalid' };
      if (/too-far-behind/.test(message)) return { kind: 'reset' };
      throw error;
    }
    return { kind: 'opened', items, close: () => connection.stop() };
  }
  return {
    name: `signalr-${name}`,
    streamToken: (t, user, jobId) => negotiateStreamToken(t, user, jobId),
    followJob: (t, token, jobId, after) => follow(t, token, jobId, (c) => c.invoke('Subscribe', jobId, after ?? null)),
    followFeed: (t, token, after) => follow(t, token, undefined, (c) => c.invoke('SubscribeFeed', after ?? null)),
  };
}

const DRIVERS: StreamDriver[] = [sse, ...TRANSPORTS.map(([name, transport]) => signalr(name, transport))];

describe.each(DRIVERS.map((driver) => [driver.name, driver] as const))('resume contract over %s', (_name, driver) => {
  let t: TestServer;
  beforeAll(async () => {
    // A small feed scan bound, so that "too far back" is reached with a few events.
    t = await startTestServer({}, { tuning: { liveFeed: { maxFeedCatchUpScan: 20 } } });
  });
  afterAll(async () => {
    await t?.close();
  });
  resumeContract(driver, () => t);
});
