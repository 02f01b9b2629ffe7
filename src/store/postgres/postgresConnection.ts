import type pg from 'pg';

/**
 * The settings every connection of a store shares. Beyond the URL:
 * - `statement_timeout` bounds each statement on the server, and the same time bounds the
 *   wait for a connection, so a call never hangs longer than that before `503`;
 * - `query_timeout` (client side) also ends a statement whose answer never comes because the
 *   network, not the server, is gone;
 * - `idle_in_transaction_session_timeout` ends a transaction whose node stalled mid-append:
 *   an open transaction holds back `$all` for every follower (see `readAllPage.ts`);
 * - TCP keep-alive notices a peer that vanished without closing the connection.
 */
export function postgresConnection(connectionString: string, statementTimeoutMs: number): pg.ClientConfig {
  return {
    connectionString,
    statement_timeout: statementTimeoutMs,
    query_timeout: statementTimeoutMs + 1_000,
    idle_in_transaction_session_timeout: Math.max(10_000, statementTimeoutMs * 2),
    connectionTimeoutMillis: statementTimeoutMs,
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
  };
}
