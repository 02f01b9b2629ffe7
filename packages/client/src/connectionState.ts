import type { StatuscastError } from './errors.ts';

/**
 * How a follower is connected:
 * - `connecting`: the first connection is being opened;
 * - `live`: events arrive as they happen;
 * - `reconnecting`: the connection was lost; `attempt` and `nextRetryAt` say when the next try runs;
 * - `offline`: not connected and not retrying on its own: the job is not visible (`error.kind`
 *   `not-found`), the user token was refused (`unauthorized`), the browser reports no network
 *   (it resumes when the network returns), or the follower was closed.
 */
export type ConnectionStatus = 'connecting' | 'live' | 'reconnecting' | 'offline';

/**
 * The transport carrying events: the official SignalR client's `websockets`,
 * `server-sent-events` or `long-polling`, or statuscast's own SSE endpoint (`sse`).
 */
export type TransportName = 'websockets' | 'server-sent-events' | 'long-polling' | 'sse';

export interface ConnectionState {
  readonly status: ConnectionStatus;
  /** The transport of the live connection (or of the last one); `null` before any opened. */
  readonly transport: TransportName | null;
  /** True when statuscast's SSE endpoint is used because no SignalR transport could be opened. */
  readonly fallback: boolean;
  /** True with Azure SignalR Service in serverless mode (catch-up over the history API). */
  readonly serverless: boolean;
  /** While `reconnecting`: the 1-based attempt that runs next. 0 otherwise. */
  readonly attempt: number;
  /** While `reconnecting`: when the next attempt runs (epoch ms). `null` otherwise. */
  readonly nextRetryAt: number | null;
  /** Why the last attempt failed, or why the follower is `offline`. `null` while all is well. */
  readonly error: StatuscastError | null;
  /**
   * `own`: this follower holds its own connection; `leader`: it holds the one connection of
   * this browser for this job (or feed) and shares it with other tabs; `follower`: another
   * tab's connection feeds it.
   */
  readonly role: 'own' | 'leader' | 'follower';
}

export const INITIAL_CONNECTION: ConnectionState = {
  status: 'connecting',
  transport: null,
  fallback: false,
  serverless: false,
  attempt: 0,
  nextRetryAt: null,
  error: null,
  role: 'own',
};
