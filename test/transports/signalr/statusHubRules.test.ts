import { afterEach, describe, expect, it } from 'vitest';
import { RS, RawWebSocketClient } from '../../../packages/signalr-server/test/support/rawClient.ts';
import { LiveFeedDouble, liveEventDouble, principalToken, startHubWithDoubles } from './support/statusDoubles.ts';

const alice = principalToken('alice');
const invoke = (id: string, target: string, ...args: unknown[]) => `${JSON.stringify({ type: 1, invocationId: id, target, arguments: args })}${RS}`;

describe('statuscast hub rules (live feed, authenticator and directory are test doubles)', () => {
  let stop: () => Promise<void> = async () => undefined;
  const clients: RawWebSocketClient[] = [];
  afterEach(async () => {
    for (const client of clients.splice(0)) client.socket.terminate();
    await stop();
  });

  async function start(feed: LiveFeedDouble, owners: Record<string, string> = { 'job-1': 'alice' }, extra = {}) {
    const running = await startHubWithDoubles(feed, owners, extra);
    stop = running.stop;
    return running;
  }

  async function client(url: string, token = alice): Promise<RawWebSocketClient> {
    const connection = await RawWebSocketClient.handshaken(url, token);
    clients.push(connection);
    return connection;
  }

  const kinds = (c: RawWebSocketClient) =>
    c.messages.filter((m) => m['type'] === 1 || m['type'] === 3).map((m) => (m['type'] === 3 ? `completion:${m['invocationId']}` : String(m['target'])));

  it('sends bulk, then the Completion, then live events, even when live events arrive before the catch-up resolves', async () => {
    const feed = new LiveFeedDouble();
    feed.jobScript = async (jobId, _after, sink) => {
      sink.catchUp({ jobId, events: [liveEventDouble(jobId, 3)], fromRevision: 3, toRevision: 3 });
      sink.live(liveEventDouble(jobId, 4));
      await new Promise((resolve) => setTimeout(resolve, 30));
      sink.live(liveEventDouble(jobId, 5));
    };
    const { url } = await start(feed);
    const c = await client(url);
    c.send(invoke('s', 'Subscribe', 'job-1', 2));
    await c.until((x) => x.messages.filter((m) => m['target'] === 'status.latest').length === 2);
    expect(kinds(c)).toEqual(['timeline.bulk', 'completion:s', 'timeline.event', 'status.latest', 'timeline.event', 'status.latest']);
    expect(c.ofType(3)[0]).toEqual({ type: 3, invocationId: 's', result: { job_id: 'job-1', revision: 3 } });
    expect(c.messages.filter((m) => m['target'] === 'timeline.event').map((m) => (m['arguments'] as any)[0].event.revision)).toEqual([4, 5]);
  });

  it('closes the connection with allowReconnect when the feed gives up on a subscription', async () => {
    const feed = new LiveFeedDouble();
    const { url } = await start(feed);
    const c = await client(url);
    c.send(invoke('s', 'Subscribe', 'job-1', null));
    await c.until((x) => x.ofType(3).length === 1);
    feed.sinks[0]!.closed('slow-consumer');
    await c.closed();
    expect(c.ofType(7)).toEqual([{ type: 7, error: 'Live updates stopped (slow-consumer); reconnect and resume.', allowReconnect: true }]);
    expect(feed.open).toBe(0);
  });

  it('reports a feed resume point that is too old as an error, keeping the connection', async () => {
    const feed = new LiveFeedDouble();
    feed.feedScript = async (sink) => sink.closed('too-far-behind');
    const { url } = await start(feed);
    const c = await client(url, principalToken('alice', { groups: ['user:alice'] }));
    c.send(invoke('f', 'SubscribeFeed', '12'));
    await c.until((x) => x.ofType(3).length === 1);
    expect(c.ofType(3)[0]!['error']).toBe('too-far-behind: reload the job list (GET /jobs) and subscribe from now on');
    expect(c.closeCode).toBeNull();
    expect(feed.open).toBe(0);
  });

  it('answers a failing catch-up with an error Completion and keeps nothing open', async () => {
    const feed = new LiveFeedDouble();
    feed.jobScript = async () => {
      throw new Error('store down');
    };
    const { url } = await start(feed);
    const c = await client(url);
    c.send(invoke('s', 'Subscribe', 'job-1', null));
    await c.until((x) => x.ofType(3).length === 1);
    expect(c.ofType(3)[0]!['error']).toBe('The subscription could not be started; retry.');
    feed.jobScript = async (jobId, after, sink) => sink.catchUp({ jobId, events: [], fromRevision: 1, toRevision: 0 });
    c.send(invoke('t', 'Subscribe', 'job-1', null));
    await c.until((x) => x.ofType(3).length === 2);
    expect(c.ofType(3)[1]).toEqual({ type: 3, invocationId: 't', result: { job_id: 'job-1', revision: 0 } });
  });

  it('allows 10 subscriptions per connection, re-subscribing replaces, and Unsubscribe frees a place', async () => {
    const feed = new LiveFeedDouble();
    const owners = Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`job-${i}`, 'alice']));
    const { url } = await start(feed, owners);
    const c = await client(url);
    for (let i = 0; i < 10; i++) c.send(invoke(`s${i}`, 'Subscribe', `job-${i}`, null));
    c.send(invoke('again', 'Subscribe', 'job-3', 5));
    c.send(invoke('over', 'Subscribe', 'job-10', null));
    await c.until((x) => x.ofType(3).length === 12);
    expect(c.ofType(3).find((m) => m['invocationId'] === 'again')!['result']).toEqual({ job_id: 'job-3', revision: 5 });
    expect(c.ofType(3).find((m) => m['invocationId'] === 'over')!['error']).toBe('Subscription limit reached: at most 10 per connection.');
    expect(feed.open).toBe(10);
    c.send(invoke('u', 'Unsubscribe', 'job-0') + invoke('in', 'Subscribe', 'job-10', null));
    await c.until((x) => x.ofType(3).length === 14);
    expect(c.ofType(3).slice(12)).toEqual([
      { type: 3, invocationId: 'u' },
      { type: 3, invocationId: 'in', result: { job_id: 'job-10', revision: 0 } },
    ]);
    c.socket.close();
    await expect.poll(() => feed.open).toBe(0);
  });

  it('closes a subscription that was still catching up when the connection ended', async () => {
    const feed = new LiveFeedDouble();
    let release!: () => void;
    feed.jobScript = (jobId, _after, sink) =>
      new Promise((resolve) => {
        release = () => {
          sink.catchUp({ jobId, events: [], fromRevision: 1, toRevision: 0 });
          resolve();
        };
      });
    const { url, hub } = await start(feed);
    const c = await client(url);
    c.send(invoke('s', 'Subscribe', 'job-1', null));
    await expect.poll(() => feed.sinks.length).toBe(1);
    c.socket.close();
    await expect.poll(() => hub.connectionCount).toBe(0);
    release();
    await expect.poll(() => feed.closes).toBe(1);
    expect(feed.open).toBe(0);
  });

  it.each([
    ['a stream token without the job group', principalToken('alice', { groups: ['job:job-9:user:alice'] }), 'not found'],
    ['another user', principalToken('bob'), 'not found'],
    // Only negotiate mints stream tokens, and only for jobs the caller could see then (an
    // admin's or auditor's): the groups are the whole grant, roles are never read from them.
    ['another user holding the group', principalToken('bob', { groups: ['job:job-1:user:alice'] }), null],
    ['an admin with the group', principalToken('root', { roles: ['admin'], groups: ['job:job-1:user:alice'] }), null],
    ['an auditor with a user token', principalToken('eve', { roles: ['auditor'] }), null],
  ])('authorizes Subscribe for %s', async (_who, token, error) => {
    const { url } = await start(new LiveFeedDouble());
    const c = await client(url, token);
    c.send(invoke('s', 'Subscribe', 'job-1', null) + invoke('m', 'Subscribe', 'job-missing', null));
    await c.until((x) => x.ofType(3).length === 2);
    const [job, missing] = c.ofType(3);
    if (error === null) expect(job).toEqual({ type: 3, invocationId: 's', result: { job_id: 'job-1', revision: 0 } });
    else expect(job!['error']).toBe(error);
    expect(missing!['error']).toBe('not found');
  });

  it('bounds SubscribeFeed by the token: user:<id> must be among a stream token\'s groups', async () => {
    const { url } = await start(new LiveFeedDouble());
    const c = await client(url, principalToken('alice', { groups: ['job:job-1:user:alice'] }));
    c.send(invoke('f', 'SubscribeFeed'));
    await c.until((x) => x.ofType(3).length === 1);
    // The same answer as SSE's 404 for a token that does not open a feed.
    expect(c.ofType(3)[0]!['error']).toBe('not found');
    c.send(invoke('g', 'SubscribeFeed', 'not-a-position'));
    await c.until((x) => x.ofType(3).length === 2);
    expect(c.ofType(3)[1]!['error']).toMatch(/after_position/);
  });
});
