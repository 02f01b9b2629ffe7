import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import type { Authenticator } from '../../auth/authenticator.ts';
import type { Metrics } from '../../observability/metrics.ts';
import type { JobDirectory } from '../../store/jobDirectory.ts';
import { HUB_PATH } from '../hubEndpoint.ts';
import type { LiveFeed } from '../liveFeed/types.ts';
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
  /** Owner lookups for `Subscribe`'s authorization. */
  readonly jobDirectory: JobDirectory;
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
}

/** Creates the embedded hub at `/hubs/status` (contract §5) on top of the live feed. */
export function createSignalRHub(options: SignalRHubOptions): SignalRHub {
  const metrics = signalrMetrics(options.metrics);
  const logger = options.logger;
  const { maxSubscriptionsPerConnection = 10, ...limits } = options.limits ?? {};
  const server = createHubServer({
    path: options.path ?? HUB_PATH,
    hub: createStatusHub({ liveFeed: options.liveFeed, jobDirectory: options.jobDirectory, logger, metrics, maxSubscriptionsPerConnection }),
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
      const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => void server.handleUpgrade(req, socket, head);
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
  };
}
