import type { Logger } from 'pino';
import type { Metrics } from '../../../observability/metrics.ts';
import type { Lease } from '../../../store/lease.ts';
import type { GlobalPosition } from '../../../store/position.ts';
import { HUB_NAME, type HubEndpoint } from '../../hubEndpoint.ts';
import type { LiveFeed } from '../../liveFeed/types.ts';
import { createAzureHubEndpoint } from './azureHubEndpoint.ts';
import { createAzureSignalRPublisher } from './azureSignalRPublisher.ts';
import { azureSignalRMetrics } from './azureSignalRMetrics.ts';
import type { AzureSignalRConnection } from './connectionString.ts';
import { createLeasedPublisher } from './leasedPublisher.ts';
import { createAzureSignalRRest } from './restClient.ts';
import { NEGOTIATE_RETRY, type RetryPolicy, withRetries } from './retryPolicy.ts';

export { AzureSignalRConfigError, type AzureSignalRConnection, parseAzureSignalRConnectionString } from './connectionString.ts';
export { REST_API_VERSION } from './serviceUrls.ts';
export type { RetryPolicy } from './retryPolicy.ts';

/** Bounds and timings; each defaults as documented where it is used. */
export interface AzureSignalRTuning {
  /** One REST attempt's timeout. Defaults to 10 s. */
  readonly requestTimeoutMs?: number;
  /** Publisher retries. Defaults to 6 attempts, 200 ms doubling to 10 s. */
  readonly sendRetry?: RetryPolicy;
  /** Negotiate's membership retries. Defaults to 3 attempts, 100 ms doubling to 1 s. */
  readonly negotiateRetry?: RetryPolicy;
  /** Negotiate's whole membership step. Defaults to 5 s. */
  readonly negotiateTimeoutMs?: number;
  /** Groups sent to at once. Defaults to 8. */
  readonly maxConcurrentSends?: number;
  /** Waiting sends before the oldest is dropped. Defaults to 10,000. */
  readonly maxQueuedSends?: number;
  /** Drain time on stop. Defaults to 2 s. */
  readonly stopTimeoutMs?: number;
  /** How often the publishing node saves how far it got, with a lease. Defaults to 500 ms. */
  readonly leaseSaveIntervalMs?: number;
}

export interface AzureSignalROptions {
  /** From `parseAzureSignalRConnectionString(config.azureSignalRConnectionString)`. */
  readonly connection: AzureSignalRConnection;
  readonly liveFeed: LiveFeed;
  /** A child logger with `component: 'azure-signalr'` is used; tokens are never logged. */
  readonly logger: Logger;
  /** Azure metrics are added to this registry (see `azureSignalRMetrics`). */
  readonly metrics: Metrics;
  /** Negotiate's answer when the service refuses the membership; without it negotiate fails with 503. */
  readonly fallback?: HubEndpoint;
  readonly tuning?: AzureSignalRTuning;
  /**
   * With several nodes: only the holder of this lease publishes, so each event is sent once
   * per deployment, not once per node. Without it this node publishes everything it sees.
   */
  readonly lease?: { readonly lease: Lease; readonly startPosition: () => GlobalPosition | null };
}

/** Serverless mode, ready to wire: negotiate's endpoint and the publisher's lifecycle. */
export interface AzureSignalR {
  /** Negotiate's `HubEndpoint`: group membership through REST, then the redirect to the service. */
  readonly hubEndpoint: HubEndpoint;
  /** Starts forwarding live events to the service's groups. */
  start(): Promise<void>;
  /** Stops forwarding; drains briefly, then abandons (and counts) what is left. */
  stop(): Promise<void>;
  /** Resolves when no send waits or is in flight. */
  idle(): Promise<void>;
  /**
   * Ends `userId`'s access to `groups` on the service now: removes the user→group memberships,
   * which also takes the user's open connections out of those groups (the service would
   * otherwise keep them there until they close). Retried like negotiate's membership calls;
   * resolves `false` when a removal did not go through (logged and counted). For the shared
   * access policy to call when access ends before the client token does.
   */
  revokeAccess(userId: string, groups: readonly string[]): Promise<boolean>;
}

/**
 * Azure SignalR Service in serverless mode (protocol doc §11, contract §5) for the hub
 * `status`, on REST API 2022-06-01: negotiate adds the user to the job's group and redirects
 * the client to the service; a publisher sends every live event to the job's and the owner's
 * groups.
 */
export function createAzureSignalR(options: AzureSignalROptions): AzureSignalR {
  const tuning = options.tuning ?? {};
  const logger = options.logger.child({ component: 'azure-signalr' });
  const metrics = azureSignalRMetrics(options.metrics);
  const rest = createAzureSignalRRest({ connection: options.connection, hub: HUB_NAME, requestTimeoutMs: tuning.requestTimeoutMs });
  const hubEndpoint = createAzureHubEndpoint({
    connection: options.connection,
    rest,
    hub: HUB_NAME,
    logger,
    metrics,
    fallback: options.fallback,
    retry: tuning.negotiateRetry,
    timeoutMs: tuning.negotiateTimeoutMs,
  });
  const createPublisher = () =>
    createAzureSignalRPublisher({
      liveFeed: options.liveFeed,
      rest,
      logger,
      metrics,
      retry: tuning.sendRetry,
      maxConcurrentSends: tuning.maxConcurrentSends,
      maxQueuedSends: tuning.maxQueuedSends,
      stopTimeoutMs: tuning.stopTimeoutMs,
    });
  const negotiateRetry = tuning.negotiateRetry ?? NEGOTIATE_RETRY;
  async function revokeAccess(userId: string, groups: readonly string[]): Promise<boolean> {
    const signal = AbortSignal.timeout(tuning.negotiateTimeoutMs ?? 5_000);
    const outcomes = await Promise.all(
      groups.map((group) => withRetries(() => rest.removeUserFromGroup(userId, group, signal), negotiateRetry, signal, metrics.retry)),
    );
    for (const outcome of outcomes) metrics.membership(outcome.kind === 'ok' ? 'removed' : 'failed');
    const failed = outcomes.filter((outcome) => outcome.kind !== 'ok');
    if (failed.length > 0) {
      logger.warn({ user_id: userId, groups, details: failed.map((outcome) => outcome.detail) }, 'Azure SignalR did not remove a group membership');
    }
    return failed.length === 0;
  }
  if (options.lease) {
    const leased = createLeasedPublisher({
      ...options.lease,
      createPublisher,
      saveIntervalMs: tuning.leaseSaveIntervalMs,
      publishing: metrics.publishing,
      logger,
    });
    return { hubEndpoint, start: leased.start, stop: leased.stop, idle: leased.idle, revokeAccess };
  }
  const publisher = createPublisher();
  metrics.publishing(true);
  return { hubEndpoint, start: () => publisher.start(), stop: () => publisher.stop(), idle: publisher.idle, revokeAccess };
}
