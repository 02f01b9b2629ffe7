import type { AzureSignalRConnection } from './connectionString.ts';
import { restTarget, type ServiceTarget } from './serviceUrls.ts';
import { REST_TOKEN_LIFETIME_SECONDS, signServiceToken } from './signServiceToken.ts';

/** Why an attempt may succeed if repeated. */
export type RetryReason = 'throttled' | 'server-error' | 'timeout' | 'network';

/** The result of one REST attempt; never a thrown error. */
export type RestOutcome =
  | { readonly kind: 'ok'; readonly status: number }
  /** 429, 408, 5xx, a timeout or a network error: worth another attempt. */
  | { readonly kind: 'retryable'; readonly reason: RetryReason; readonly status: number | null; readonly retryAfterMs: number | null; readonly detail: string }
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

  async function call(method: 'POST' | 'PUT', target: ServiceTarget, body: string | undefined, signal: AbortSignal): Promise<RestOutcome> {
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
      const reason: RetryReason = timedOut ? 'timeout' : 'network';
      return { kind: 'retryable', reason, status: null, retryAfterMs: null, detail: describeError(error) };
    } finally {
      clearTimeout(timer);
      signal.removeEventListener('abort', stop);
    }
    const { status } = response;
    if (status >= 200 && status < 300) return { kind: 'ok', status };
    const detail = `${status} ${serviceError(text)}`.trim();
    if (status === 429) return { kind: 'retryable', reason: 'throttled', status, retryAfterMs: retryAfter(response.headers), detail };
    if (status === 408) return { kind: 'retryable', reason: 'timeout', status, retryAfterMs: null, detail };
    if (status >= 500) return { kind: 'retryable', reason: 'server-error', status, retryAfterMs: retryAfter(response.headers), detail };
    return { kind: 'rejected', status, detail };
  }

  return {
    sendToGroup: (group, body, signal) => call('POST', restTarget(connection, hub, ['groups', group, { action: ':send' }]), body, signal),
    addUserToGroup: (user, group, ttlSeconds, signal) =>
      call('PUT', restTarget(connection, hub, ['users', user, 'groups', group], { ttl: String(ttlSeconds) }), undefined, signal),
  };
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
