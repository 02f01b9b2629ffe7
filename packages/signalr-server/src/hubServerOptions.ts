import type { HubLogger } from './hubLogger.ts';
import type { HubDefinition, HubIdentity, TransportKind } from './hubDefinition.ts';
import type { HubServerMetrics } from './hubServerMetrics.ts';

/** Timeouts and bounds of a hub server. Every field is optional; see the defaults. */
export interface HubServerLimits {
  /** A Ping goes out on WebSockets/SSE when nothing else was sent for this long. Defaults to 15 s. */
  readonly keepAliveIntervalMs: number;
  /** A WebSockets/SSE client that sends nothing for this long is closed (never long polling). Defaults to 30 s. */
  readonly clientTimeoutMs: number;
  /** Time allowed between the transport opening and the handshake request. Defaults to 15 s. */
  readonly handshakeTimeoutMs: number;
  /** A long poll with nothing to deliver is answered 200 with an empty body after this long. Defaults to 90 s. */
  readonly pollTimeoutMs: number;
  /**
   * How long a connection may stay without a receiving side before it is disposed: a negotiated
   * connection whose transport never arrives, a long-polling client between polls, and a
   * stateful-reconnect WebSocket that dropped uncleanly. Defaults to 15 s (ASP.NET's `DisconnectTimeout`).
   */
  readonly disconnectTimeoutMs: number;
  /**
   * Period of the one timer that drives every timeout above, token expiry and stateful-reconnect
   * Acks; timeouts fire up to this much late. It runs only while connections exist. Defaults to 1 s.
   */
  readonly heartbeatIntervalMs: number;
  /** Maximum UTF-8 size of one inbound hub message (and of an unfinished one). Oversize: Close with an error. Defaults to 32 KiB. */
  readonly maxMessageBytes: number;
  /** Maximum size of one inbound WebSocket frame or POST body. Defaults to 1 MiB. */
  readonly maxReceiveBytes: number;
  /** Invocations per second per connection; the excess is answered with an error Completion. Defaults to 100. */
  readonly maxInvocationsPerSecond: number;
  /**
   * Bytes a connection may have waiting in its transport (`ws.bufferedAmount`, the SSE
   * response's pending writes, the long-poll queue). A consumer beyond it is closed with
   * `allowReconnect: true`. One frame larger than the bound (a big catch-up) is let through:
   * the bound applies to what waits beyond it. Defaults to 1 MiB.
   */
  readonly maxSendBufferBytes: number;
  /**
   * Bytes of unacknowledged messages kept for stateful reconnect; beyond it the connection is
   * closed with `allowReconnect: true` (the live feed cannot be paused). Defaults to 1 MiB.
   */
  readonly statefulReconnectBufferBytes: number;
  /** How long `close()` waits for WebSockets to finish their closing handshake. Defaults to 5 s. */
  readonly shutdownTimeoutMs: number;
  /**
   * Negotiated connections one user may hold that no transport has used yet. Each costs memory
   * until `disconnectTimeoutMs`; past the bound the oldest unused one is dropped, so a client
   * that negotiates in a loop cannot fill the server while real clients keep working. Defaults to 100.
   */
  readonly maxUnusedConnectionsPerUser: number;
}

export const DEFAULT_LIMITS: HubServerLimits = {
  keepAliveIntervalMs: 15_000,
  clientTimeoutMs: 30_000,
  handshakeTimeoutMs: 15_000,
  pollTimeoutMs: 90_000,
  disconnectTimeoutMs: 15_000,
  heartbeatIntervalMs: 1_000,
  maxMessageBytes: 32 * 1024,
  maxReceiveBytes: 1024 * 1024,
  maxInvocationsPerSecond: 100,
  maxSendBufferBytes: 1024 * 1024,
  statefulReconnectBufferBytes: 1024 * 1024,
  shutdownTimeoutMs: 5_000,
  maxUnusedConnectionsPerUser: 100,
};

/**
 * Verifies a request's access token. Resolve `null` for a missing or invalid token (the
 * request gets 401); reject only when verification itself failed (the request gets 503).
 */
export type HubAuthenticate<TUser> = (
  token: string,
  source: 'header' | 'query',
) => Promise<HubIdentity<TUser> | null>;

export interface HubServerOptions<TUser, TSession> {
  /** URL path of the hub, e.g. `/hubs/status`; negotiate is `<path>/negotiate`. */
  readonly path: string;
  readonly hub: HubDefinition<TUser, TSession>;
  /** Runs on every hub request: negotiate, WebSocket upgrade, SSE, poll, send and DELETE. */
  readonly authenticate: HubAuthenticate<TUser>;
  /** Diagnostics (pino's shape; a pino logger fits). Defaults to none. */
  readonly logger?: HubLogger;
  readonly metrics?: HubServerMetrics;
  /** Offered transports, in this order (clients take the first they support). Defaults to all three, WebSockets first. */
  readonly transports?: readonly TransportKind[];
  /** Offer stateful reconnect to clients that ask for it (WebSockets only). Defaults to true. */
  readonly statefulReconnect?: boolean;
  /**
   * Which browser origins get CORS headers (the exact origin is echoed, with credentials;
   * never `*`) and may open WebSockets. Defaults to every origin: requests carry bearer
   * tokens, not cookies, so an origin gains nothing without a token.
   */
  readonly allowOrigin?: (origin: string) => boolean;
  readonly limits?: Partial<HubServerLimits>;
}
