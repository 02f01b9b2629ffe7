import { ApiError } from './api.ts';

/** Automatic reconnect back-off, in ms: the delay before attempt 1, 2, … (then give up). */
export const RECONNECT_DELAYS_MS: readonly number[] = [0, 2000, 5000, 10000, 30000];

/** What the page shows about its live connection. */
export type LinkState =
  | { readonly status: 'connecting'; readonly transport: string }
  | { readonly status: 'live'; readonly transport: string; readonly note?: string }
  /** The stream token ran out and a fresh one is being fetched: not an outage, no banner. */
  | { readonly status: 'renewing'; readonly transport: string }
  | {
      readonly status: 'reconnecting';
      readonly transport: string;
      /** 1-based attempt that is about to run, of `RECONNECT_DELAYS_MS.length`. */
      readonly attempt: number;
      readonly retryInMs: number;
    }
  /** Automatic reconnect gave up (or could not start); only Retry brings it back. */
  | { readonly status: 'disconnected'; readonly transport: string; readonly reason: string };

/** Why a stream stopped for good: the job is gone from the caller's view, or the sign-in is. */
export type LostReason = 'not-found' | 'unauthorized';

/** What negotiate grants: where to connect and the short-lived token to connect with. */
export interface StreamGrant {
  readonly url: string;
  readonly accessToken: string;
  readonly sse_url: string;
  readonly expires_at: string;
}

/**
 * Holds the current negotiate answer and renews it when its stream token is about to run
 * out (`expires_at` against the page's clock). A skewed clock only costs an extra round:
 * the streams also renew after a connection attempt fails. Concurrent renewals share one
 * request.
 */
export class StreamCredentials<G extends StreamGrant> {
  #grant: G;
  #deadline = 0;
  #margin = 0;
  #pending: Promise<G> | null = null;
  readonly #renew: () => Promise<G>;

  constructor(initial: G, renew: () => Promise<G>) {
    this.#renew = renew;
    this.#grant = initial;
    this.#accept(initial);
  }

  get current(): G {
    return this.#grant;
  }

  /** True when the token is expired or close enough to it that a new connection should not use it. */
  get expiring(): boolean {
    return Date.now() >= this.#deadline - this.#margin;
  }

  /** The grant to open a connection with: renewed first when `force` or when it is expiring. */
  async fresh(force = false): Promise<G> {
    if (!force && !this.expiring) return this.#grant;
    this.#pending ??= this.#renew()
      .then((grant) => {
        this.#grant = grant;
        this.#accept(grant);
        return grant;
      })
      .finally(() => {
        this.#pending = null;
      });
    return this.#pending;
  }

  #accept(grant: G): void {
    const expiresAt = new Date(grant.expires_at).getTime();
    const lifetime = Number.isFinite(expiresAt) ? Math.max(0, expiresAt - Date.now()) : 0;
    this.#deadline = Date.now() + lifetime;
    // Renew a little early, but never so early that a short-lived token is renewed at once.
    this.#margin = Math.min(30_000, lifetime / 4);
  }
}

/** Maps a negotiate failure to a permanent loss, or `null` when retrying may help. */
export function lostReasonOf(error: unknown): LostReason | null {
  if (error instanceof ApiError) {
    if (error.status === 404) return 'not-found';
    if (error.status === 401) return 'unauthorized';
  }
  return null;
}

export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
