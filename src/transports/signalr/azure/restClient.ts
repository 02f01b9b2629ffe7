import type { AzureSignalRConnection } from './connectionString.ts';
import { restTarget, type ServiceTarget } from './serviceUrls.ts';
import { REST_TOKEN_LIFETIME_SECONDS, signServiceToken } from './signServiceToken.ts';

/** Why an attempt may succeed if repeated. */
export type RetryReason = 'server-error' | 'timeout' | 'network';

/** The result of one REST attempt; never a thrown error. */
export type RestOutcome =
  | { readonly kind: 'ok'; readonly status: number }
  /** Worth another attempt without risking a second delivery (see `classify`). */
  | { readonly kind: 'retryable'; readonly reason: RetryReason; readonly status: number | null; readonly retryAfterMs: number | null; readonly detail: string }
  /** The service failed it, and repeating it might deliver twice (a send answered 500, a connection lost mid-send) or only spend quota (429). */
  | { readonly kind: 'failed'; readonly status: number | null; readonly detail: string }
  /** Any other status: repeating the same request will not help (bad token, bad name, …). */
  | { readonly kind: 'rejected'; readonly status: number; readonly detail: string };

/** One attempt at each REST call statuscast makes (API 2022-06-01); retries are the caller's. */
export interface AzureSignalRRest {
  /** `POST /api/hubs/{hub}/groups/{group}/:send` with `body` (`{"target":…,"arguments":[…]}`); the service answers 202. */
  sendToGroup(group: string, body: string, signal: AbortSignal): Promise<RestOutcome>;
  /**
   * `PUT /api/hubs/{hub}/users/{user}/groups/{group}?ttl=<seconds>`; the service answers 200.
   * The membership ends after `ttlSeconds`, so it never outlives the client token it goes with.
   */
  addUserToGroup(user: string, group: string, ttlSeconds: number, signal: AbortSignal): Promise<RestOutcome>;
  /**
   * `DELETE /api/hubs/{hub}/users/{user}/groups/{group}`; the service answers 200 (also when
   * the user was not in it) and takes the user's open connections out of the group too.
   */
  removeUserFromGroup(user: string, group: string, signal: AbortSignal): Promise<RestOutcome>;
}

export interface AzureSignalRRestOptions {
  readonly connection: AzureSignalRConnection;
  /** The hub name; sent in lower case. */
  readonly hub: string;
  /** One attempt gives up after this long (then counts as retryable). Defaults to 10 s. */
  readonly requestTimeoutMs?: number;
}

const DETAIL_LIMIT = 200;

/**
 * REST calls signed per request: a fresh HS256 token whose `aud` is the route's audience
 * (see `restTarget`), sent as `Authorization: Bearer`. Tokens never leave this function
 * (nothing here logs; outcomes carry status and the service's error code and message only).
 */
export function createAzureSignalRRest(options: AzureSignalRRestOptions): AzureSignalRRest {
  const { connection, hub } = options;
  const requestTimeoutMs = options.requestTimeoutMs ?? 10_000;

  async function call(method: 'POST' | 'PUT' | 'DELETE', target: ServiceTarget, body: string | undefined, signal: AbortSignal): Promise<RestOutcome> {
    const token = await signServiceToken(connection.accessKey, {
      audience: target.audience,
      expiresAtSeconds: Math.floor(Date.now() / 1000) + REST_TOKEN_LIFETIME_SECONDS,
    });
    // One controller per attempt, not AbortSignal.any(): that would tie every attempt to the
    // long-lived stop signal, which keeps track of its dependents.
    const attempt = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      attempt.abort();
    }, requestTimeoutMs);
    const stop = () => attempt.abort();
    if (signal.aborted) attempt.abort();
    else signal.addEventListener('abort', stop, { once: true });
    let response: Response;
    let text = '';
    try {
      response = await fetch(target.url, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body }),
        signal: attempt.signal,
      });
      try {
        text = await response.text();
      } catch {
        // The status is what matters; a body cut short changes nothing.
      }
    } catch (error) {
      if (timedOut) return { kind: 'retryable', reason: 'timeout', status: null, retryAfterMs: null, detail: describeError(error) };
      // A connection that never opened delivered nothing; one lost later may have delivered.
      if (method !== 'POST' || neverConnected(error)) {
        return { kind: 'retryable', reason: 'network', status: null, retryAfterMs: null, detail: describeError(error) };
      }
      return { kind: 'failed', status: null, detail: describeError(error) };
    } finally {
      clearTimeout(timer);
      signal.removeEventListener('abort', stop);
    }
    const { status } = response;
    if (status >= 200 && status < 300) return { kind: 'ok', status };
    const detail = `${status} ${serviceError(text)}`.trim();
    if (retryableStatus(status, method !== 'POST')) {
      return { kind: 'retryable', reason: 'server-error', status, retryAfterMs: retryAfter(response.headers), detail };
    }
    if (status >= 500 || status === 429 || status === 408) return { kind: 'failed', status, detail };
    return { kind: 'rejected', status, detail };
  }

  return {
    sendToGroup: (group, body, signal) => call('POST', restTarget(connection, hub, ['groups', group, { action: ':send' }]), body, signal),
    addUserToGroup: (user, group, ttlSeconds, signal) =>
      call('PUT', restTarget(connection, hub, ['users', user, 'groups', group], { ttl: String(ttlSeconds) }), undefined, signal),
    removeUserFromGroup: (user, group, signal) => call('DELETE', restTarget(connection, hub, ['users', user, 'groups', group]), undefined, signal),
  };
}

/**
 * Which answers are worth repeating, as the official SDK decides (Azure/azure-signalr
 * Management `Resilient/RetryHttpMessageHandler.cs`, given a transient-error predicate; the
 * SDK also repeats an attempt its own timeout ended): a status above 500. Never 429: the Free
 * tier's daily message quota or a unit's rate limit, which a retry only spends again. Never a
 * 500 for a send: the service answers 500 for a send that timed out inside it, possibly after
 * delivering it (and billing it), so a repeat can deliver twice. Membership calls (`PUT`,
 * `DELETE`) are idempotent, so a 500 or 408 there is repeated too.
 */
function retryableStatus(status: number, idempotent: boolean): boolean {
  if (status === 429) return false;
  if (idempotent) return status >= 500 || status === 408;
  return status > 500;
}

/** Connection-level failures that happen before a request can reach the service. */
const NOT_CONNECTED = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_CONNECT_TIMEOUT']);

function neverConnected(error: unknown): boolean {
  const cause = error instanceof Error ? (error as { cause?: unknown }).cause : undefined;
  const code = typeof cause === 'object' && cause !== null ? (cause as { code?: unknown }).code : undefined;
  return typeof code === 'string' && NOT_CONNECTED.has(code);
}

/** The service's `{"code","message"}` error body, shortened; raw text when it is not that. */
function serviceError(text: string): string {
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed === 'object' && parsed !== null) {
      const { code, message } = parsed as { code?: unknown; message?: unknown };
      return [code, message].filter((part) => typeof part === 'string').join(': ').slice(0, DETAIL_LIMIT);
    }
  } catch {
    // not JSON
  }
  return text.slice(0, DETAIL_LIMIT);
}

/** `Retry-After` in seconds or as an HTTP date; `null` when absent or unreadable. */
function retryAfter(headers: Headers): number | null {
  const value = headers.get('retry-after');
  if (value === null) return null;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? null : Math.max(0, date - Date.now());
}

function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = (error as { cause?: unknown }).cause;
  const code = typeof cause === 'object' && cause !== null ? (cause as { code?: unknown }).code : undefined;
  return typeof code === 'string' ? `${error.message} (${code})` : error.message;
}
