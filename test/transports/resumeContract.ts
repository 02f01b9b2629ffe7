import { expect, it } from 'vitest';
import { type TestServer, eventually, status } from '../support/testServer.ts';

/**
 * What a client can be told when it asks to follow a stream from a resume point:
 * - `opened`: it follows; `items` is every timeline entry received, in arrival order and
 *   with duplicates kept (`<job>@<revision>`), bulk pages and live events alike;
 * - `invalid`: the resume point was refused (SSE 400; hub error Completion "Invalid arguments");
 * - `not found`: the stream is not visible with this token (SSE 404; hub "not found");
 * - `reset`: the resume point is too old to replay; reload the list (SSE `feed.reset`; hub error).
 */
export type Followed =
  | { readonly kind: 'opened'; readonly items: string[]; close(): Promise<void> }
  | { readonly kind: 'invalid' | 'not found' | 'reset' };

/** One way of following streams: SSE, or SignalR over one of its transports. */
export interface StreamDriver {
  readonly name: string;
  /** Follows `jobId` after `after` (`undefined`: no resume point; strings are sent as they are). */
  followJob(t: TestServer, token: string, jobId: string, after: number | string | undefined): Promise<Followed>;
  /** Follows the caller's feed after `after` (a position string; `undefined`: from now on). */
  followFeed(t: TestServer, token: string, after: string | undefined): Promise<Followed>;
  /** A stream token from negotiate, in the form this driver sends it. */
  streamToken(t: TestServer, userToken: string, jobId?: string): Promise<string>;
}

async function negotiate(t: TestServer, userToken: string, jobId?: string): Promise<string> {
  const path = jobId ? `/jobs/${jobId}/signalr/negotiate` : '/signalr/negotiate';
  const response = await fetch(`${t.url}${path}`, { method: 'POST', headers: { authorization: `Bearer ${userToken}` } });
  expect(response.status).toBe(200);
  return ((await response.json()) as { accessToken: string }).accessToken;
}
export { negotiate as negotiateStreamToken };

/** Waits until `items` holds `count` entries, then a little longer, so that a duplicate would show. */
async function received(followed: Followed, count: number): Promise<string[]> {
  if (followed.kind !== 'opened') throw new Error(`expected the stream to open, got ${followed.kind}`);
  await eventually(() => followed.items.length >= count, 10_000, `${count} timeline entries (have ${followed.items.join(' ')})`);
  await new Promise((resolve) => setTimeout(resolve, 150));
  return [...followed.items];
}

const range = (job: string, from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => `${job}@${from + i}`);

/**
 * The resume contract (contract §1, §5, §6 and docs/api-contract.md §10), the same for every
 * transport: call inside a `describe` whose server is `server()`.
 */
export function resumeContract(driver: StreamDriver, server: () => TestServer): void {
  let counter = 0;
  const job = () => `resume-${driver.name}-${++counter}`;
  const report = async (jobId: string, count: number, owner = 'alice') => {
    const { status: code } = await server().ingest({ messages: Array.from({ length: count }, () => status({ job_id: jobId, user_id: owner })) });
    expect(code).toBe(202);
  };
  const follow = async (followed: Followed, count: number) => {
    try {
      return await received(followed, count);
    } finally {
      if (followed.kind === 'opened') await followed.close();
    }
  };

  it('without a resume point: the whole timeline, then live, each revision once', async () => {
    const t = server();
    const jobId = job();
    await report(jobId, 3);
    const followed = await driver.followJob(t, await t.token('alice'), jobId, undefined);
    await report(jobId, 2);
    expect(await follow(followed, 5)).toEqual(range(jobId, 1, 5));
  });

  it('after r: exactly r+1 to the head, then live', async () => {
    const t = server();
    const jobId = job();
    await report(jobId, 4);
    const followed = await driver.followJob(t, await t.token('alice'), jobId, 2);
    await report(jobId, 2);
    expect(await follow(followed, 4)).toEqual(range(jobId, 3, 6));
  });

  it('after the head: nothing old, then live', async () => {
    const t = server();
    const jobId = job();
    await report(jobId, 3);
    const followed = await driver.followJob(t, await t.token('alice'), jobId, 3);
    await report(jobId, 1);
    expect(await follow(followed, 1)).toEqual(range(jobId, 4, 4));
  });

  it('after a revision beyond the head: refused, never a silent wait', async () => {
    const t = server();
    const jobId = job();
    await report(jobId, 3);
    expect((await driver.followJob(t, await t.token('alice'), jobId, 9)).kind).toBe('invalid');
  });

  it('after something that is not a revision: refused', async () => {
    const t = server();
    const jobId = job();
    await report(jobId, 1);
    expect((await driver.followJob(t, await t.token('alice'), jobId, 'abc')).kind).toBe('invalid');
    expect((await driver.followJob(t, await t.token('alice'), jobId, -1)).kind).toBe('invalid');
  });

  it("another user's job, an unknown job, and a token minted for another job: not found", async () => {
    const t = server();
    const jobId = job();
    const other = job();
    await report(jobId, 1);
    await report(other, 1);
    expect((await driver.followJob(t, await t.token('bob'), jobId, undefined)).kind).toBe('not found');
    expect((await driver.followJob(t, await t.token('alice'), 'no-such-job', undefined)).kind).toBe('not found');
    const otherJobToken = await driver.streamToken(t, await t.token('alice'), other);
    expect((await driver.followJob(t, otherJobToken, jobId, undefined)).kind).toBe('not found');
  });

  it("the feed from a position of GET /jobs: exactly the owner's later events, then live", async () => {
    const t = server();
    const mine = job();
    const theirs = job();
    await report(mine, 1);
    await t.projected();
    const alice = await t.token('alice');
    const { position } = (await (await fetch(`${t.url}/jobs`, { headers: { authorization: `Bearer ${alice}` } })).json()) as { position: string };
    await report(mine, 2);
    await report(theirs, 2, 'bob');
    const followed = await driver.followFeed(t, alice, position);
    await report(mine, 1);
    expect(await follow(followed, 3)).toEqual(range(mine, 2, 4));
  });

  it('the feed from now on: only live events', async () => {
    const t = server();
    const mine = job();
    await report(mine, 2);
    const followed = await driver.followFeed(t, await t.token('alice'), undefined);
    await report(mine, 1);
    expect(await follow(followed, 1)).toEqual(range(mine, 3, 3));
  });

  it('the feed from a position beyond the head, or not a position: refused', async () => {
    const t = server();
    const alice = await t.token('alice');
    expect((await driver.followFeed(t, alice, '99999999999')).kind).toBe('invalid');
    expect((await driver.followFeed(t, alice, 'x-1')).kind).toBe('invalid');
  });

  it('the feed from a position too far back: reset (reload the list), not a scan', async () => {
    const t = server();
    await report(job(), 30);
    expect((await driver.followFeed(t, await t.token('alice'), '1')).kind).toBe('reset');
  });

  it('the feed with a token minted for one job: not found', async () => {
    const t = server();
    const jobId = job();
    await report(jobId, 1);
    const jobToken = await driver.streamToken(t, await t.token('alice'), jobId);
    expect((await driver.followFeed(t, jobToken, undefined)).kind).toBe('not found');
  });
}
