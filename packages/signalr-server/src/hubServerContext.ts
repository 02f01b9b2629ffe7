import { type HubLogger, silentLogger } from './hubLogger.ts';
import { newConnectionIdentifier } from './connectionIds.ts';
import { ConnectionRegistry } from './connectionRegistry.ts';
import type { HubIdentity, TransportKind } from './hubDefinition.ts';
import { HubConnection } from './hubConnection.ts';
import { DEFAULT_LIMITS, type HubAuthenticate, type HubServerLimits, type HubServerOptions } from './hubServerOptions.ts';
import { NO_METRICS, type HubServerMetrics } from './hubServerMetrics.ts';
import { methodTable } from './invocationDispatcher.ts';
import { normalizeHubPath } from './hubRequest.ts';
import type { HttpRejection } from './httpResponses.ts';

/** State shared by the negotiate handler and the three transports of one hub server. */
export interface HubServerContext<TUser, TSession> {
  readonly path: string;
  readonly transports: readonly TransportKind[];
  readonly statefulReconnect: boolean;
  readonly allowOrigin: (origin: string) => boolean;
  readonly limits: HubServerLimits;
  readonly authenticate: HubAuthenticate<TUser>;
  readonly logger: HubLogger;
  readonly metrics: HubServerMetrics;
  readonly registry: ConnectionRegistry<HubConnection<TUser, TSession>>;
  /** True once `close()` started: no new connections. */
  closing: boolean;
  /** Creates and registers a connection (negotiate, or a WebSocket that skipped negotiation). */
  createConnection(identity: HubIdentity<TUser>, negotiateVersion: number, statefulNegotiated: boolean): HubConnection<TUser, TSession>;
}

export function createHubServerContext<TUser, TSession>(options: HubServerOptions<TUser, TSession>): HubServerContext<TUser, TSession> {
  const limits = { ...DEFAULT_LIMITS, ...options.limits };
  const logger = (options.logger ?? silentLogger).child({ component: 'signalr', hub: options.path });
  const metrics = options.metrics ?? NO_METRICS;
  const methods = methodTable(options.hub.methods);
  const registry = new ConnectionRegistry<HubConnection<TUser, TSession>>(limits.heartbeatIntervalMs, logger);
  /** Per user, the connections negotiated but possibly not used yet, oldest first. */
  const negotiatedBy = new Map<string, Set<HubConnection<TUser, TSession>>>();

  function forget(connection: HubConnection<TUser, TSession>): void {
    const userId = connection.identity.userId;
    const set = negotiatedBy.get(userId);
    if (set?.delete(connection) && set.size === 0) negotiatedBy.delete(userId);
  }

  /** Keeps room for one more unused connection of `userId`, dropping the oldest unused ones. */
  function boundUnused(userId: string): void {
    const set = negotiatedBy.get(userId);
    if (set === undefined) return;
    for (const connection of set) if (connection.selectedTransport !== null || !connection.isOpen) set.delete(connection);
    for (const connection of set) {
      if (set.size < limits.maxUnusedConnectionsPerUser) break;
      set.delete(connection);
      connection.abort('too many unused negotiated connections for this user');
    }
    if (set.size === 0) negotiatedBy.delete(userId);
  }

  /** One function for every connection (not a closure per connection). */
  function release(connection: HubConnection<TUser, TSession>): void {
    forget(connection);
    registry.remove(connection);
  }

  return {
    path: normalizeHubPath(options.path),
    transports: options.transports ?? ['WebSockets', 'ServerSentEvents', 'LongPolling'],
    statefulReconnect: options.statefulReconnect ?? true,
    allowOrigin: options.allowOrigin ?? (() => true),
    limits,
    authenticate: options.authenticate,
    logger,
    metrics,
    registry,
    closing: false,
    createConnection(identity, negotiateVersion, statefulNegotiated) {
      boundUnused(identity.userId);
      const connectionId = newConnectionIdentifier();
      const connection = new HubConnection<TUser, TSession>({
        connectionId,
        // Negotiate version 0 has no token: old clients send the connection id as `id`.
        token: negotiateVersion >= 1 ? newConnectionIdentifier() : connectionId,
        identity,
        statefulNegotiated,
        hub: options.hub,
        methods,
        limits,
        logger,
        metrics,
        now: Date.now(),
        release,
      });
      registry.add(connection);
      let set = negotiatedBy.get(identity.userId);
      if (set === undefined) negotiatedBy.set(identity.userId, (set = new Set()));
      set.add(connection);
      return connection;
    },
  };
}

/**
 * The checks every transport request makes once the connection is found (protocol doc §1):
 * the transport must be enabled and not changed mid-connection, and the caller must be the
 * user the connection was made for.
 */
export function checkTransportRequest<TUser, TSession>(
  context: HubServerContext<TUser, TSession>,
  connection: HubConnection<TUser, TSession>,
  identity: HubIdentity<TUser>,
  kind: TransportKind,
): HttpRejection | null {
  if (!context.transports.includes(kind)) return { status: 404, text: `${kind} transport not supported by this end point type` };
  if (identity.userId !== connection.identity.userId) return { status: 403, text: 'The connection belongs to another user.' };
  const selected = connection.selectedTransport;
  if (selected !== null && selected !== kind) return { status: 400, text: 'Cannot change transports mid-connection' };
  return null;
}

/** 400 without `id`, 404 for an unknown one. */
export function findConnection<TUser, TSession>(
  context: HubServerContext<TUser, TSession>,
  query: URLSearchParams,
): HubConnection<TUser, TSession> | HttpRejection {
  const token = query.get('id');
  if (token === null || token === '') return { status: 400, text: 'Connection ID required' };
  return context.registry.get(token) ?? { status: 404, text: 'No Connection with that ID' };
}
