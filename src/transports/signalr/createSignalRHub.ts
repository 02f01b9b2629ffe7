import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import type { Authenticator } from '../../auth/authenticator.ts';
import type { Metrics } from '../../observability/metrics.ts';
import { HUB_PATH } from '../hubEndpoint.ts';
import type { LiveFeed } from '../liveFeed/types.ts';
import type { StreamAccessPolicy } from '../streamAccess.ts';
import { UserQuota } from '../userQuota.ts';
import { createHubServer, type HubServerLimits, type TransportKind } from '@statuscast/signalr-server';
import { principalAuthentication } from './principalAuthentication.ts';
import { signalrMetrics } from './signalrMetrics.ts';
import { createStatusHub } from './statusHub.ts';

export interface SignalRHubLimits extends HubServerLimits {
  /** Jobs (and the feed) one connection may follow at once; more → error Completion. Defaults to 10. */
  readonly maxSubscriptionsPerConnection: number;
}

export interface SignalRHubOptions {
  /** Hub path; negotiate is `<path>/negotiate`. Defaults to `/hubs/status` (contract §5). */
  readonly path?: string;
  /** Verifies the token on every hub request (header: `verifyBearer`, `access_token`: `verifyQueryToken`). */
  readonly authenticator: Authenticator;
  readonly liveFeed: LiveFeed;
  /** Who may subscribe to what, and from where (shared with the SSE routes). */
  readonly access: StreamAccessPolicy;
  /** A child logger with `component: 'signalr'` is used; tokens and query strings are never logged. */
  readonly logger: Logger;
  /**
   * The service's shared metrics: connections, messages sent, slow-consumer closes and
   * append→send latency with `signalr-*` transport labels, plus
   * `statuscast_signalr_invocations_total{method,outcome}` added to `metrics.registry`.
   */
  readonly metrics: Metrics;
  /**
   * Browser origins that get CORS headers (exact origin echoed, with credentials) and may
   * open WebSockets. Defaults to every origin; pass the service's `CORS_ORIGINS` check.
   */
  readonly allowOrigin?: (origin: string) => boolean;
  /** Offered transports, in order. Defaults to WebSockets, ServerSentEvents, LongPolling. */
  readonly transports?: readonly TransportKind[];
  /** Offer stateful reconnect to clients that ask (`withStatefulReconnect()`). Defaults to true. */
  readonly statefulReconnect?: boolean;
  /** Timeouts and bounds; each defaults as documented on `SignalRHubLimits`. */
  readonly limits?: Partial<SignalRHubLimits>;
  /**
   * Whether a WebSocket upgrade may be considered at all (before authentication); refused
   * upgrades get 403. HTTP requests are filtered by whatever mounts `handleRequest`.
   * Defaults to every upgrade.
   */
  readonly acceptUpgrade?: (req: IncomingMessage) => boolean;
  /** Per-user connection and subscription bounds, shared with the SSE transport. Defaults to an unshared `UserQuota`. */
  readonly quota?: UserQuota;
}

/** The embedded SignalR hub, ready to be wired into an HTTP server. */
export interface SignalRHub {
  /**
   * Express/connect-style handler: serves the hub's HTTP requests (negotiate, SSE, polls,
   * sends, DELETE, preflights) and passes every other request to `next`. Mount it before
   * any body parser (it reads its own bodies).
   */
  handleRequest(req: IncomingMessage, res: ServerResponse, next: (error?: unknown) => void): void;
  /** Takes WebSocket upgrades for the hub path on `server`; other upgrade paths are left alone. */
  attach(server: Server): void;
  /** Sends Close with `allowReconnect: true` to every connection and waits for them to end. */
  close(): Promise<void>;
  /** Connections currently tracked (all transports). */
  readonly connectionCount: number;
  /** The hub methods clients may invoke (the access matrix has a row for each). */
  readonly methods: readonly string[];
}

/** Creates the embedded hub at `/hubs/status` (contract §5) on top of the live feed. */
export function createSignalRHub(options: SignalRHubOptions): SignalRHub {
  const metrics = signalrMetrics(options.metrics);
  const logger = options.logger;
  const { maxSubscriptionsPerConnection = 10, ...tuned } = options.limits ?? {};
  const quota = options.quota ?? new UserQuota();
  // A user may hold as many negotiated-but-unused connections as connections: a burst of
  // starts (many tabs, a reconnect storm) is legitimate; an endless negotiate loop is not.
  const limits = { maxUnusedConnectionsPerUser: quota.limits.maxConnectionsPerUser, ...tuned };
  const hub = createStatusHub({ liveFeed: options.liveFeed, access: options.access, logger, metrics, maxSubscriptionsPerConnection, quota });
  const server = createHubServer({
    path: options.path ?? HUB_PATH,
    hub,
    authenticate: principalAuthentication(options.authenticator),
    logger,
    metrics,
    ...(options.transports ? { transports: options.transports } : {}),
    ...(options.statefulReconnect !== undefined ? { statefulReconnect: options.statefulReconnect } : {}),
    ...(options.allowOrigin ? { allowOrigin: options.allowOrigin } : {}),
    limits,
  });
  const attached = new Map<Server, (req: IncomingMessage, socket: Duplex, head: Buffer) => void>();

  return {
    handleRequest(req, res, next) {
      server.handleRequest(req, res).then((handled) => {
        if (!handled) next();
      }, next);
    },
    attach(httpServer) {
      if (attached.has(httpServer)) return;
      const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
        if (options.acceptUpgrade && !options.acceptUpgrade(req)) {
          socket.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
          return;
        }
        void server.handleUpgrade(req, socket, head);
      };
      attached.set(httpServer, onUpgrade);
      httpServer.on('upgrade', onUpgrade);
    },
    async close() {
      // Upgrades keep being answered (503) while closing, then the listeners go.
      await server.close();
      for (const [httpServer, onUpgrade] of attached) httpServer.off('upgrade', onUpgrade);
      attached.clear();
    },
    get connectionCount() {
      return server.connectionCount;
    },
    methods: Object.keys(hub.methods),
  };
}
