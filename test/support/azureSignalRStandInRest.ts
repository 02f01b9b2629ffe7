import type { IncomingMessage } from 'node:http';
import { decodeProtectedHeader, type JWTPayload, jwtVerify } from 'jose';

/**
 * What the stand-in understood a REST call to be. Routes of API 2022-06-01 only
 * (protocol doc §11.5); anything else, v1 included, is `unknown` and answered 404.
 */
export type RestRoute =
  | { readonly kind: 'send-to-group'; readonly group: string }
  | { readonly kind: 'send-to-user'; readonly user: string }
  | { readonly kind: 'add-user-to-group'; readonly user: string; readonly group: string; readonly ttl: number | null }
  | { readonly kind: 'remove-user-from-group'; readonly user: string; readonly group: string }
  | { readonly kind: 'unknown' };

/** One REST request as the stand-in received, checked and answered it. */
export interface RestCall {
  /** Arrival order across all REST calls. */
  readonly seq: number;
  readonly method: string;
  /** Path and query exactly as sent (percent-encoding untouched). */
  readonly rawUrl: string;
  readonly route: RestRoute;
  readonly hub: string | undefined;
  readonly body: string;
  /** Parsed send body. */
  readonly message: { readonly target: string; readonly arguments: readonly unknown[] } | undefined;
  readonly claims: JWTPayload | undefined;
  /** The bearer token as sent (tests check it never reaches a log). */
  readonly token: string | undefined;
  /** The audience the stand-in computed for this request (what `aud` had to be). */
  readonly expectedAudience: string;
  /** Every way the request broke the protocol; empty for a correct one. */
  readonly problems: readonly string[];
  /** The stand-in's answer (0 while held, or for a request left hanging). */
  status: number;
}

export const API_VERSION = '2022-06-01';
const HUB_NAME = /^[A-Za-z][A-Za-z0-9_]*$/;

/**
 * Checks one REST request independently of statuscast's code: method and route, the
 * `api-version` query and no unexpected parameters, canonical percent-encoding of every path
 * segment (`encodeURIComponent`), hub and group name rules, the JSON body of a send, and the
 * bearer token: HS256 over the raw UTF-8 bytes of `accessKey`, `exp` present and in the future,
 * `aud` exactly `<scheme>://<host without port><path as sent>?api-version=2022-06-01` (the
 * SDK's audience: the request URL minus the port and minus `ttl`/`excluded`, which the SDK
 * adds after signing), and the whole token under 4096 characters.
 */
export async function inspectRestCall(
  req: IncomingMessage,
  body: string,
  accessKey: string,
  expectedHub: string,
  seq: number,
): Promise<RestCall> {
  const problems: string[] = [];
  const rawUrl = req.url ?? '/';
  const queryAt = rawUrl.indexOf('?');
  const rawPath = queryAt < 0 ? rawUrl : rawUrl.slice(0, queryAt);
  const query = new URLSearchParams(queryAt < 0 ? '' : rawUrl.slice(queryAt + 1));
  const hostname = new URL(`http://${req.headers.host ?? 'missing-host'}`).hostname;
  const expectedAudience = `http://${hostname}${rawPath}?api-version=${API_VERSION}`;

  const versions = query.getAll('api-version');
  if (versions.length !== 1 || versions[0] !== API_VERSION) problems.push(`api-version must be ${API_VERSION} once, got ${JSON.stringify(versions)}`);

  const match = /^\/api\/hubs\/([^/]+)\/(.+)$/.exec(rawPath);
  const hub = match ? decode(match[1]!, 'hub', problems) : undefined;
  if (hub !== undefined && (!HUB_NAME.test(hub) || hub !== expectedHub.toLowerCase())) problems.push(`hub must be "${expectedHub.toLowerCase()}", got "${hub}"`);
  const rest = match ? match[2]!.split('/') : [];
  const route = routeOf(req.method ?? '', rest, query, problems);
  if (route.kind === 'unknown') problems.push(`no 2022-06-01 route for ${req.method} ${rawPath}`);
  const allowed = new Set(['api-version', ...(route.kind === 'add-user-to-group' ? ['ttl'] : [])]);
  for (const key of query.keys()) if (!allowed.has(key)) problems.push(`unexpected query parameter ${key}`);

  let message: RestCall['message'];
  if (route.kind === 'send-to-group' || route.kind === 'send-to-user') {
    if (!/^application\/json\b/i.test(req.headers['content-type'] ?? '')) problems.push(`send without Content-Type application/json`);
    message = parseMessage(body, problems);
  } else if (body !== '') {
    problems.push('membership call with a body');
  }

  const token = /^Bearer ([^\s]+)$/.exec(req.headers.authorization ?? '')?.[1];
  if (token === undefined) problems.push('no Authorization: Bearer token');
  const claims = token === undefined ? undefined : await verifyServiceToken(token, accessKey, expectedAudience, problems);
  return { seq, method: req.method ?? '', rawUrl, route, hub, body, message, claims, token, expectedAudience, problems, status: 0 };
}

function routeOf(method: string, segments: readonly string[], query: URLSearchParams, problems: string[]): RestRoute {
  const [first, second, third, fourth] = segments;
  if (method === 'POST' && segments.length === 3 && first === 'groups' && third === ':send') {
    return { kind: 'send-to-group', group: groupName(decode(second!, 'group', problems), problems) };
  }
  if (method === 'POST' && segments.length === 3 && first === 'users' && third === ':send') {
    return { kind: 'send-to-user', user: decode(second!, 'user', problems) };
  }
  if (method === 'PUT' && segments.length === 4 && first === 'users' && third === 'groups') {
    const ttlText = query.get('ttl');
    let ttl: number | null = null;
    if (ttlText !== null) {
      if (/^\d+$/.test(ttlText)) ttl = Number(ttlText);
      else problems.push(`ttl must be whole seconds, got "${ttlText}"`);
    }
    return { kind: 'add-user-to-group', user: decode(second!, 'user', problems), group: groupName(decode(fourth!, 'group', problems), problems), ttl };
  }
  if (method === 'DELETE' && segments.length === 4 && first === 'users' && third === 'groups') {
    return { kind: 'remove-user-from-group', user: decode(second!, 'user', problems), group: groupName(decode(fourth!, 'group', problems), problems) };
  }
  return { kind: 'unknown' };
}

/** Decodes a path segment and insists it was encoded exactly as `encodeURIComponent` does. */
function decode(raw: string, what: string, problems: string[]): string {
  let decoded: string;
  try {
    decoded = decodeURIComponent(raw);
  } catch {
    problems.push(`${what} segment "${raw}" is not valid percent-encoding`);
    return raw;
  }
  if (encodeURIComponent(decoded) !== raw) problems.push(`${what} segment "${raw}" should be sent as "${encodeURIComponent(decoded)}"`);
  return decoded;
}

function groupName(group: string, problems: string[]): string {
  if (group.length < 1 || group.length > 1024) problems.push(`group name length ${group.length} outside 1..1024`);
  return group;
}

function parseMessage(body: string, problems: string[]): RestCall['message'] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    problems.push('send body is not JSON');
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    problems.push('send body is not an object');
    return undefined;
  }
  const { target, arguments: args, ...others } = parsed as Record<string, unknown>;
  if (typeof target !== 'string' || target === '') problems.push('send body without a target');
  if (!Array.isArray(args)) problems.push('send body without an arguments array');
  if (Object.keys(others).length > 0) problems.push(`send body with unexpected fields ${Object.keys(others).join(', ')}`);
  return typeof target === 'string' && Array.isArray(args) ? { target, arguments: args } : undefined;
}

/** The checks the service makes on any token it is given (REST or client). */
export async function verifyServiceToken(
  token: string,
  accessKey: string,
  expectedAudience: string,
  problems: string[],
): Promise<JWTPayload | undefined> {
  if (token.length >= 4096) problems.push(`token is ${token.length} characters (limit 4096)`);
  try {
    const header = decodeProtectedHeader(token);
    if (header.alg !== 'HS256') problems.push(`token alg ${String(header.alg)}, not HS256`);
    const { payload } = await jwtVerify(token, new TextEncoder().encode(accessKey), {
      algorithms: ['HS256'],
      requiredClaims: ['aud', 'exp'],
    });
    if (payload.aud !== expectedAudience) problems.push(`token aud ${JSON.stringify(payload.aud)}, expected ${JSON.stringify(expectedAudience)}`);
    return payload;
  } catch (error) {
    problems.push(`token rejected: ${error instanceof Error ? error.message : String(error)}`);
    return undefined;
  }
}
