/**
 * Who gets what, for every entry point of the service: one row per HTTP route and hub
 * method, one column per kind of caller. `accessMatrix.test.ts` runs every cell against a
 * real server, and fails when the app has a route (or the hub a method) without a row here.
 * `docs/security.md` describes the same table in words.
 *
 * The world the table is read against: jobs `A1` and `A2` belong to alice, `B1` to bob.
 */

/** The kinds of caller every row is tried with. */
export const CALLERS = {
  none: 'no token at all',
  expired: "alice's user token, expired a minute ago",
  'no-exp': "alice's user token without an exp claim",
  'other-user': "bob's user token (owns B1, not A1)",
  owner: "alice's user token (owns A1)",
  'owner-in-url': "alice's user token, sent as ?access_token= instead of a header",
  'stream-A1': 'the stream token negotiate gave alice for A1',
  'stream-A2': 'the stream token negotiate gave alice for A2 (another job of hers)',
  feed: "the stream token negotiate gave alice for her feed",
  publisher: "a publisher's user token (worker; owns no job)",
  'publisher-stream': "the publisher's feed stream token",
  auditor: "an auditor's user token",
  admin: "an admin's user token",
  'admin-stream-A1': 'the stream token negotiate gave the admin for A1',
} as const;

export type Caller = keyof typeof CALLERS;
export const CALLER_KINDS = Object.keys(CALLERS) as Caller[];

/** Stream tokens are tried both ways a client can send them: header and `?access_token=`. */
export const STREAM_CALLERS: readonly Caller[] = ['stream-A1', 'stream-A2', 'feed', 'publisher-stream', 'admin-stream-A1'];

/** HTTP status, or for hub methods: `ok`, `not found` (error Completion), 401 (the connection is refused). */
export type Outcome = number | 'ok' | 'not found';

export interface HttpRow {
  readonly kind: 'http';
  /** The route as the app declares it (checked against the app's own routes). */
  readonly route: string;
  readonly method: 'GET' | 'POST';
  /** The concrete request tried. */
  readonly path: string;
  readonly body?: unknown;
  /** Open as an event stream (only the status is read). */
  readonly sse?: boolean;
  readonly expect: Readonly<Record<Caller, Outcome>>;
}

export interface HubRow {
  readonly kind: 'hub';
  /** A hub method name (checked against the hub's methods). */
  readonly method: string;
  readonly args: readonly unknown[];
  readonly expect: Readonly<Record<Caller, Outcome>>;
}

export type Row = HttpRow | HubRow;

/** The same outcome for every caller (public endpoints). */
function everyone(outcome: Outcome): Record<Caller, Outcome> {
  return Object.fromEntries(CALLER_KINDS.map((caller) => [caller, outcome])) as Record<Caller, Outcome>;
}

/** Only user tokens in a header count; stream tokens and URLs are a 401 (the default of every user route). */
function userRoute(users: Partial<Record<'other-user' | 'owner' | 'publisher' | 'auditor' | 'admin', Outcome>>): Record<Caller, Outcome> {
  return { ...everyone(401), ...users };
}

const INGEST_BODY = { job_id: 'A1', user_id: 'alice', stage: 'parsing', ts: '2026-11-20T10:00:00Z', message: 'from the matrix' };

/** A job route that every caller who can see A1 may read: owner, auditor, admin (404 for others). */
const readsJobA1 = userRoute({ 'other-user': 404, owner: 200, publisher: 404, auditor: 200, admin: 200 });

export const ACCESS_MATRIX: readonly Row[] = [
  // Operations and the page: public by design (docs/security.md says why).
  { kind: 'http', route: '/healthz', method: 'GET', path: '/healthz', expect: everyone(200) },
  { kind: 'http', route: '/readyz', method: 'GET', path: '/readyz', expect: everyone(200) },
  { kind: 'http', route: '/metrics', method: 'GET', path: '/metrics', expect: everyone(200) },
  { kind: 'http', route: '/', method: 'GET', path: '/', expect: everyone(200) },
  { kind: 'http', route: '/job/:jobId', method: 'GET', path: '/job/A1', expect: everyone(200) },
  { kind: 'http', route: '/config.json', method: 'GET', path: '/config.json', expect: everyone(200) },
  { kind: 'http', route: '/assets/app.js', method: 'GET', path: '/assets/app.js', expect: everyone(200) },
  { kind: 'http', route: '/assets/app.js.map', method: 'GET', path: '/assets/app.js.map', expect: everyone(200) },
  { kind: 'http', route: '/assets/app.css', method: 'GET', path: '/assets/app.css', expect: everyone(200) },
  { kind: 'http', route: '/assets/favicon.svg', method: 'GET', path: '/assets/favicon.svg', expect: everyone(200) },
  // The audit key's public half: auditors verify exports offline with it (docs/audit.md).
  { kind: 'http', route: '/.well-known/statuscast-audit-keys.json', method: 'GET', path: '/.well-known/statuscast-audit-keys.json', expect: everyone(200) },
  // Dev mode only, and only on loopback unless AUTH_DEV_MODE=allow-network.
  { kind: 'http', route: '/.well-known/jwks.json', method: 'GET', path: '/.well-known/jwks.json', expect: everyone(200) },
  { kind: 'http', route: '/dev/tokens', method: 'POST', path: '/dev/tokens', body: { sub: 'mallory', roles: [] }, expect: everyone(200) },

  // Writes: publishers' user tokens only.
  {
    kind: 'http', route: '/ingest/status', method: 'POST', path: '/ingest/status', body: INGEST_BODY,
    expect: userRoute({ 'other-user': 403, owner: 403, publisher: 202, auditor: 403, admin: 403 }),
  },

  // Negotiate mints stream tokens: user tokens only, never a stream token (no renewal chain).
  { kind: 'http', route: '/signalr/negotiate', method: 'POST', path: '/signalr/negotiate', body: { job_id: 'A1' }, expect: readsJobA1 },
  { kind: 'http', route: '/jobs/:jobId/signalr/negotiate', method: 'POST', path: '/jobs/A1/signalr/negotiate', expect: readsJobA1 },
  {
    kind: 'http', route: '/signalr/negotiate', method: 'POST', path: '/signalr/negotiate', body: {},
    expect: userRoute({ 'other-user': 200, owner: 200, publisher: 200, auditor: 200, admin: 200 }),
  },

  // Reads: user tokens; a job is 404 to whoever may not see it.
  {
    kind: 'http', route: '/jobs', method: 'GET', path: '/jobs',
    expect: userRoute({ 'other-user': 200, owner: 200, publisher: 200, auditor: 200, admin: 200 }),
  },
  { kind: 'http', route: '/jobs/:jobId', method: 'GET', path: '/jobs/A1', expect: readsJobA1 },
  { kind: 'http', route: '/jobs/:jobId/history', method: 'GET', path: '/jobs/A1/history', expect: readsJobA1 },

  // Streams: a user token in the header, or a stream token that names exactly this stream.
  {
    kind: 'http', route: '/jobs/:jobId/events', method: 'GET', path: '/jobs/A1/events', sse: true,
    expect: {
      ...readsJobA1,
      'stream-A1': 200, 'stream-A2': 404, feed: 404, 'publisher-stream': 404, 'admin-stream-A1': 200,
    },
  },
  {
    kind: 'http', route: '/events', method: 'GET', path: '/events', sse: true,
    expect: {
      ...userRoute({ 'other-user': 200, owner: 200, publisher: 200, auditor: 200, admin: 200 }),
      'stream-A1': 404, 'stream-A2': 404, feed: 200, 'publisher-stream': 200, 'admin-stream-A1': 404,
    },
  },

  // The hub: a user token in the header (Node and .NET clients) or any stream token connects;
  // what a connection may follow is bounded by the token.
  {
    kind: 'http', route: '/hubs/status/negotiate', method: 'POST', path: '/hubs/status/negotiate?negotiateVersion=1',
    expect: {
      ...everyone(200),
      none: 401, expired: 401, 'no-exp': 401, 'owner-in-url': 401,
    },
  },
  {
    kind: 'hub', method: 'Subscribe', args: ['A1', null],
    expect: {
      ...everyone('not found'),
      none: 401, expired: 401, 'no-exp': 401, 'owner-in-url': 401,
      owner: 'ok', auditor: 'ok', admin: 'ok', 'stream-A1': 'ok', 'admin-stream-A1': 'ok',
    },
  },
  {
    kind: 'hub', method: 'SubscribeFeed', args: [null],
    expect: {
      ...everyone('ok'),
      none: 401, expired: 401, 'no-exp': 401, 'owner-in-url': 401,
      'stream-A1': 'not found', 'stream-A2': 'not found', 'admin-stream-A1': 'not found',
    },
  },
  {
    kind: 'hub', method: 'Unsubscribe', args: ['A1'],
    expect: { ...everyone('ok'), none: 401, expired: 401, 'no-exp': 401, 'owner-in-url': 401 },
  },
];
