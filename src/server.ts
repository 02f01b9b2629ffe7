import { mkdirSync } from 'node:fs';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Express } from 'express';
import type { Logger } from 'pino';
import { createApp } from './api/app.ts';
import { devModeHostCheck, devModeHostGuard } from './api/devHostCheck.ts';
import { auditKeysRoutes } from './api/routes/auditKeys.ts';
import { devAuthRoutes } from './api/routes/devAuth.ts';
import { eventsRoutes } from './api/routes/events.ts';
import { historyRoutes } from './api/routes/history.ts';
import { ingestRoutes } from './api/routes/ingest.ts';
import { ingestFastPath } from './api/routes/ingestFastPath.ts';
import { jobsRoutes } from './api/routes/jobs.ts';
import { streamRequests } from './api/streamRequests.ts';
import { negotiateRoutes } from './api/routes/negotiate.ts';
import { operationsRoutes } from './api/routes/operations.ts';
import { webRoutes } from './api/routes/web.ts';
import { loadAuditSigner } from './audit/auditKeys.ts';
import { type AuditTrail, auditFailureReporter, createAuditTrail } from './audit/auditTrail.ts';
import { withAuditChain } from './audit/withAuditChain.ts';
import type { Authenticator } from './auth/authenticator.ts';
import { createAuthenticator } from './auth/createAuthenticator.ts';
import { type DevKeys, loadOrCreateDevKeys } from './auth/devKeys.ts';
import { createStreamTokens, loadStreamTokenSecret, type StreamTokens } from './auth/streamTokens.ts';
import type { Config } from './config.ts';
import { type IngestStatus, createIngestStatus } from './ingest/ingestStatus.ts';
import type { ServiceBusConsumer, ServiceBusConsumerOptions } from './ingest/serviceBus/index.ts';
import { createLogger } from './observability/logger.ts';
import { type Metrics, createMetrics } from './observability/metrics.ts';
import {
  type ProjectionRunner,
  READ_MODEL_PROJECTIONS,
  createProjectionRunner,
  createReadModel,
  openReadModelDatabase,
} from './projections/index.ts';
import { createEventStore } from './store/createEventStore.ts';
import { createLease } from './store/createLease.ts';
import type { EventStore } from './store/eventStore.ts';
import { createJobCommandHandler } from './store/handleJobCommands.ts';
import { type JobDirectory, createJobDirectory } from './store/jobDirectory.ts';
import { HUB_PATH, embeddedHubEndpoint } from './transports/hubEndpoint.ts';
import { type LiveFeedOptions, type RunningLiveFeed, createLiveFeed } from './transports/liveFeed/index.ts';
import { type AzureSignalRTuning, createAzureSignalR, parseAzureSignalRConnectionString } from './transports/signalr/azure/index.ts';
import { createSignalRHub, type SignalRHub, type SignalRHubLimits } from './transports/signalr/index.ts';
import { createSseTransport } from './transports/sse/index.ts';
import { createStreamAccessPolicy } from './transports/streamAccess.ts';
import { UserQuota } from './transports/userQuota.ts';

export interface ServerOverrides {
  readonly logger?: Logger;
  /** Use this store instead of the one the config names (tests inject failures this way). */
  readonly store?: EventStore;
  /** Shorter intervals for tests; production uses the contract's defaults. */
  readonly tuning?: {
    readonly sseHeartbeatMs?: number;
    readonly liveFeed?: Pick<LiveFeedOptions, 'maxFeedCatchUpScan' | 'catchUpPageSize'>;
    readonly signalr?: Partial<SignalRHubLimits>;
    readonly azureSignalR?: AzureSignalRTuning;
  };
  /** Service Bus consumer settings for tests (a stand-in receiver, smaller bounds); used when `config.serviceBus` is set. */
  readonly serviceBus?: Partial<Omit<ServiceBusConsumerOptions, 'connectionString' | 'topic' | 'subscription' | 'ingest' | 'logger' | 'metrics'>>;
}

export interface RunningServer {
  /** Base URL the server listens on, e.g. `http://127.0.0.1:3000`. */
  readonly url: string;
  readonly port: number;
  readonly httpServer: Server;
  /** The express app: every route (the stream routes and `POST /ingest/status` too, though their exact paths are served before it). */
  readonly app: Express;
  readonly config: Config;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** The store as the service uses it: every append goes through the audit chain. */
  readonly store: EventStore;
  readonly audit: AuditTrail;
  readonly directory: JobDirectory;
  readonly liveFeed: RunningLiveFeed;
  readonly projections: ProjectionRunner;
  readonly authenticator: Authenticator;
  readonly streamTokens: StreamTokens;
  readonly ingest: IngestStatus;
  /** The embedded SignalR hub at `/hubs/status`. */
  readonly signalr: SignalRHub;
  /** Present in dev mode only. */
  readonly devKeys: DevKeys | undefined;
  /** The Service Bus ingest source, when `SERVICEBUS_CONNECTION_STRING` is set. */
  readonly serviceBus: ServiceBusConsumer | undefined;
  /** Graceful stop: refuse new work, close streams with a reconnect hint, flush, release. */
  close(): Promise<void>;
}

/**
 * The composition root (style principle 7): builds every part from the validated config,
 * wires them, and starts listening. `src/main.ts` adds process concerns (signals, exit).
 */
export async function startServer(config: Config, overrides: ServerOverrides = {}): Promise<RunningServer> {
  // A connection string the service cannot use fails here, before anything is opened.
  const azureConnection = config.azureSignalRConnectionString
    ? parseAzureSignalRConnectionString(config.azureSignalRConnectionString)
    : undefined;
  mkdirSync(config.dataDir, { recursive: true });
  const logger = overrides.logger ?? createLogger(config.logLevel);
  const metrics = createMetrics();
  const signer = await loadAuditSigner({ configured: config.auditSigningKey, dataDir: config.dataDir });
  const reportFailure = auditFailureReporter({ metrics, logger });
  // The audit chain wraps whichever store is configured, so it holds on every engine.
  const store = withAuditChain(overrides.store ?? (await createEventStore(config, { logger, metrics })), {
    onFailure: (failure) => reportFailure({ ...failure, during: 'append' }),
  });
  const audit = createAuditTrail({ store, signer, reportFailure });
  const directory = createJobDirectory(store);
  const handler = createJobCommandHandler({ store, directory });
  const ingest = createIngestStatus({ handler, logger, metrics });
  // Loaded only when configured, like the EventStoreDB client: the AMQP stack is heavy.
  const serviceBus = config.serviceBus
    ? (await import('./ingest/serviceBus/index.ts')).createServiceBusConsumer({
        ...config.serviceBus,
        ingest,
        logger,
        metrics,
        stopGraceMs: config.shutdownGraceMs,
        ...overrides.serviceBus,
      })
    : undefined;

  const readModelDb = openReadModelDatabase(join(config.dataDir, 'read-models.sqlite'));
  const projections = createProjectionRunner({ store, db: readModelDb, projections: READ_MODEL_PROJECTIONS, logger, metrics });
  const readModel = createReadModel(readModelDb);
  const liveFeed = createLiveFeed({ store, directory, logger, metrics, ...overrides.tuning?.liveFeed });
  const access = createStreamAccessPolicy({ directory, store });
  // Serverless mode: negotiate redirects to the service and a publisher feeds its groups. The
  // embedded hub stays mounted: negotiate falls back to it when the service refuses a membership.
  // On PostgreSQL one node at a time publishes for all (a lease), so no event goes out twice.
  const publisherLease = azureConnection ? await createLease(config, 'azure-signalr-publisher', logger) : undefined;
  const azureSignalR = azureConnection
    ? createAzureSignalR({
        lease: publisherLease && { lease: publisherLease, startPosition: () => liveFeed.position },
        connection: azureConnection,
        liveFeed,
        logger,
        metrics,
        fallback: embeddedHubEndpoint,
        tuning: overrides.tuning?.azureSignalR,
      })
    : undefined;

  const devKeys = config.auth.mode === 'dev' ? await loadOrCreateDevKeys(config.dataDir) : undefined;
  const streamTokens = createStreamTokens(
    loadStreamTokenSecret(config.streamTokenSecret, config.dataDir),
    config.streamTokenTtlSeconds,
  );
  const authenticator = createAuthenticator({
    users:
      config.auth.mode === 'jwks'
        ? { mode: 'jwks', jwksUrl: config.auth.jwksUrl, issuer: config.auth.issuer, audience: config.auth.audience }
        : { mode: 'dev', keys: devKeys! },
    rolesClaim: config.auth.rolesClaim,
    streamTokens,
  });
  // Dev mode answers loopback names only (DNS rebinding); see devHostCheck.ts.
  const hostAllowed = config.auth.mode === 'dev' ? devModeHostCheck(config.publicUrl) : undefined;
  const quota = new UserQuota({ maxConnectionsPerUser: config.maxConnectionsPerUser, maxSubscriptionsPerUser: config.maxSubscriptionsPerUser });
  const sse = createSseTransport({ liveFeed, logger, metrics, heartbeatMs: overrides.tuning?.sseHeartbeatMs, quota });
  const signalr = createSignalRHub({
    authenticator,
    liveFeed,
    access,
    quota,
    logger,
    metrics,
    allowOrigin: (origin) => config.corsOrigins.includes(origin),
    ...(hostAllowed && { acceptUpgrade: hostAllowed }),
    ...(overrides.tuning?.signalr ? { limits: overrides.tuning.signalr } : {}),
  });

  let accepting = false;
  const app = createApp({
    logger,
    corsOrigins: config.corsOrigins,
    before: [...(hostAllowed ? [devModeHostGuard(hostAllowed)] : []), signalr.handleRequest],
    routers: [
      operationsRoutes({
        store,
        registry: metrics.registry,
        projectionLag: (cap) => projections.lag(cap),
        readyMaxLag: config.readyMaxLag,
        accepting: () => accepting,
      }),
      ...(devKeys ? [devAuthRoutes({ keys: devKeys, rolesClaim: config.auth.rolesClaim })] : []),
      ingestRoutes({ authenticator, ingest }),
      negotiateRoutes({
        authenticator,
        streamTokens,
        access,
        readModel,
        hub: azureSignalR?.hubEndpoint ?? embeddedHubEndpoint,
        publicUrl: config.publicUrl,
      }),
      jobsRoutes({ authenticator, access, readModel, readModelPosition: () => projections.checkpoint }),
      historyRoutes({ authenticator, access, store, audit }),
      auditKeysRoutes({ jwks: audit.jwks }),
      eventsRoutes({ authenticator, access, sse }),
      webRoutes({ config, hubClientEndpoint: azureConnection?.clientEndpoint }),
    ],
  });
  // Stream requests (streamRequests.ts) and ingest (ingestFastPath.ts) skip express; everything else goes through it.
  const fastIngest = ingestFastPath({ authenticator, ingest, logger, corsOrigins: config.corsOrigins, ...(hostAllowed && { hostAllowed }) });
  const httpServer = createServer(
    streamRequests({
      logger,
      corsOrigins: config.corsOrigins,
      ...(hostAllowed && { hostAllowed }),
      events: { authenticator, access, sse },
      hub: { path: HUB_PATH, handleRequest: signalr.handleRequest },
      fallback: (req, res) => {
        if (!fastIngest(req, res)) app(req, res);
      },
    }),
  );
  signalr.attach(httpServer);

  await liveFeed.start();
  await azureSignalR?.start();
  void projections.start();
  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(config.port, config.host, () => {
      httpServer.off('error', reject);
      resolve();
    });
  });
  accepting = true;
  serviceBus?.start();
  const { port } = httpServer.address() as AddressInfo;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  const url = `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`;

  let closing: Promise<void> | undefined;
  async function close(): Promise<void> {
    accepting = false;
    // In-flight messages finish (or are abandoned) while HTTP drains; the store outlives them.
    const serviceBusStopped = serviceBus?.stop();
    const stopped = new Promise<void>((resolve) => httpServer.close(() => resolve()));
    // Keep-alive sockets become idle as their last response ends; release them promptly.
    const sweeper = setInterval(() => httpServer.closeIdleConnections(), 50);
    httpServer.closeIdleConnections();
    // SignalR clients get Close with allowReconnect before their subscriptions end.
    await signalr.close();
    // Drains queued Azure sends briefly, then stops following the feed.
    await azureSignalR?.stop();
    // Ends every live stream; SSE clients reconnect (elsewhere) with Last-Event-ID.
    await liveFeed.stop();
    const grace = setTimeout(() => httpServer.closeAllConnections(), config.shutdownGraceMs);
    await stopped;
    clearTimeout(grace);
    clearInterval(sweeper);
    await serviceBusStopped;
    await projections.stop();
    await store.close();
    readModelDb.close();
  }

  return {
    url,
    port,
    httpServer,
    app,
    config,
    logger,
    metrics,
    store,
    audit,
    directory,
    liveFeed,
    projections,
    authenticator,
    streamTokens,
    ingest,
    signalr,
    devKeys,
    serviceBus,
    close: () => (closing ??= close()),
  };
}
